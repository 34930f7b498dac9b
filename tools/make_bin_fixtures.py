#!/usr/bin/python3
"""Writes the pytorch_model.bin test fixtures under tests/data/bin_fixtures (run once; the
results are committed, so neither the build nor the tests need Python).

Needs Debian's python3-torch and python3-numpy (apt-get install python3-torch python3-numpy);
run it with /usr/bin/python3 from the repository root:

    /usr/bin/python3 tools/make_bin_fixtures.py

It writes:
  <case>/pytorch_model.bin + config.json   every golden model (tests/data/golden/*/model.safetensors)
                                           saved with torch.save as transformers saves a state_dict
                                           (default zip format, OrderedDict with _metadata);
                                           identical models are written once (cases.json maps
                                           golden case -> fixture folder)
  sharded/                                 the vision_conv model split in two .bin shards with a
                                           pytorch_model.bin.index.json
  features/, features_protocol4/           dtypes and layouts: float16, bfloat16, int64, a scalar,
                                           an empty tensor, a transposed (strided) tensor, views at
                                           offsets into one shared storage, an nn.Parameter;
                                           expected.safetensors holds the same tensors contiguous
  hostile/*.bin                            files that must be refused (see hostile/README.md)
"""
import collections
import hashlib
import io
import json
import os
import shutil
import struct
import sys
import zipfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "data", "golden")
OUT = os.path.join(ROOT, "tests", "data", "bin_fixtures")

NUMPY_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "U8": np.uint8}


# ---- safetensors (no safetensors package: the format is a length, JSON, then raw bytes) --------

def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n], object_pairs_hook=collections.OrderedDict)
    base = 8 + n
    tensors = collections.OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[base + begin:base + end], dtype=NUMPY_DTYPES[info["dtype"]])
        tensors[name] = torch.from_numpy(array.copy().reshape(info["shape"]))
    return tensors


def write_safetensors(path, tensors):
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
    header, blobs, offset = collections.OrderedDict(), [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# ---- state_dicts as transformers saves them -------------------------------------------------------

def as_state_dict(tensors):
    """An OrderedDict with the _metadata attribute nn.Module.state_dict() attaches."""
    state = collections.OrderedDict(tensors)
    metadata = collections.OrderedDict([("", {"version": 1})])
    for name in tensors:
        parts = name.split(".")[:-1]
        for i in range(1, len(parts) + 1):
            metadata.setdefault(".".join(parts[:i]), {"version": 1})
    state._metadata = metadata
    return state


def golden_fixtures():
    cases, written = collections.OrderedDict(), {}
    for case in sorted(os.listdir(GOLDEN)):
        model = os.path.join(GOLDEN, case, "model.safetensors")
        if not os.path.exists(model):
            continue
        digest = hashlib.sha256(open(model, "rb").read()).hexdigest()
        if digest in written:
            cases[case] = written[digest]
            continue
        folder = os.path.join(OUT, case)
        os.makedirs(folder, exist_ok=True)
        torch.save(as_state_dict(read_safetensors(model)), os.path.join(folder, "pytorch_model.bin"))
        shutil.copy(os.path.join(GOLDEN, case, "config.json"), folder)
        written[digest] = case
        cases[case] = case
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")


def sharded_fixture():
    tensors = read_safetensors(os.path.join(GOLDEN, "vision_conv", "model.safetensors"))
    folder = os.path.join(OUT, "sharded")
    os.makedirs(folder, exist_ok=True)
    names = list(tensors)
    half = len(names) // 2
    weight_map = collections.OrderedDict()
    for i, part in enumerate([names[:half], names[half:]]):
        shard = "pytorch_model-%05d-of-00002.bin" % (i + 1)
        torch.save(as_state_dict(collections.OrderedDict((n, tensors[n]) for n in part)), os.path.join(folder, shard))
        for n in part:
            weight_map[n] = shard
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    with open(os.path.join(folder, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")
    shutil.copy(os.path.join(GOLDEN, "vision_conv", "config.json"), folder)


def features_fixture():
    g = torch.Generator().manual_seed(3)
    shared = torch.randn(40, generator=g)
    matrix = torch.randn(3, 5, generator=g)
    tensors = collections.OrderedDict()
    tensors["plain"] = torch.randn(2, 3, 4, generator=g)
    tensors["transposed"] = matrix.t()                       # strides (1, 5): copied
    tensors["shared.head"] = shared[:8].view(2, 4)           # offset 0 into one storage
    tensors["shared.tail"] = shared[30:]                     # offset 30 into the same storage
    tensors["shared.every_other"] = shared[1:21:2]           # offset 1, stride 2
    tensors["half"] = torch.randn(5, 3, generator=g).half()
    tensors["brain"] = torch.randn(7, generator=g).bfloat16()
    tensors["steps"] = torch.tensor(12345678901, dtype=torch.int64)  # a 0-d int64 (BatchNorm counter)
    tensors["ids"] = torch.arange(-3, 3, dtype=torch.int64).view(2, 3)
    tensors["scalar"] = torch.tensor(-2.5)
    tensors["empty"] = torch.zeros(0, 4)
    tensors["param"] = torch.nn.Parameter(torch.randn(3, generator=g))  # _rebuild_parameter
    expected = collections.OrderedDict((k, v.detach().contiguous()) for k, v in tensors.items())
    for folder, protocol in [("features", 2), ("features_protocol4", 4)]:
        path = os.path.join(OUT, folder)
        os.makedirs(path, exist_ok=True)
        torch.save(as_state_dict(tensors), os.path.join(path, "pytorch_model.bin"), pickle_protocol=protocol)
        write_safetensors(os.path.join(path, "expected.safetensors"), expected)


# ---- hostile files --------------------------------------------------------------------------------

def unicode(text):
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def binint(n):
    return b"J" + struct.pack("<i", n)


def tuple_of(items):
    return b"(" + b"".join(items) + b"t"


def tensor_program(key="0", storage="FloatStorage", numel=4, offset=0, size=(4,), stride=(1,), name="w"):
    """The pickle torch.save writes for {name: tensor}, with every field under the caller's control."""
    pid = tuple_of([unicode("storage"), b"ctorch\n" + storage.encode() + b"\n", unicode(key), unicode("cpu"),
                    binint(numel)])
    args = tuple_of([pid + b"Q", binint(offset), tuple_of([binint(n) for n in size]),
                     tuple_of([binint(n) for n in stride]), b"\x89", b"ccollections\nOrderedDict\n)R"])
    return (b"\x80\x02ccollections\nOrderedDict\n)R" + unicode(name) + b"ctorch._utils\n_rebuild_tensor_v2\n" + args +
            b"Rs.")


def write_zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data, compress_type=compression)


def checkpoint(path, program, storages=None, compression=zipfile.ZIP_STORED):
    storages = {"0": struct.pack("<4f", 1, 2, 3, 4)} if storages is None else storages
    entries = [("archive/data.pkl", program)]
    entries += [("archive/data/" + key, data) for key, data in storages.items()]
    entries += [("archive/version", b"3\n")]
    write_zip(path, entries, compression)


def hostile_fixtures():
    folder = os.path.join(OUT, "hostile")
    os.makedirs(folder, exist_ok=True)
    p = lambda name: os.path.join(folder, name)
    readme = []

    def note(name, what):
        readme.append("| `%s` | %s |" % (name, what))

    checkpoint(p("valid.bin"), tensor_program())
    note("valid.bin", "the hand-made baseline the others vary: {'w': float32 [1, 2, 3, 4]} (must load)")
    checkpoint(p("global_os_system.bin"), b"\x80\x02cos\nsystem\n" + unicode("echo owned") + b"\x85R.")
    note("global_os_system.bin", "GLOBAL os.system then REDUCE: refused at the GLOBAL, by name")
    checkpoint(p("global_builtins_eval.bin"), b"\x80\x02cbuiltins\neval\n" + unicode("1+1") + b"\x85R.")
    note("global_builtins_eval.bin", "GLOBAL builtins.eval")
    checkpoint(p("unknown_opcode.bin"), b"\x80\x02\xff.")
    note("unknown_opcode.bin", "byte 0xff, not a pickle opcode")
    checkpoint(p("opcode_inst.bin"), b"\x80\x02(ios\nsystem\n.")
    note("opcode_inst.bin", "INST (imports and calls in one opcode): refused by name")
    checkpoint(p("reduce_storage.bin"), b"\x80\x02ctorch\nFloatStorage\n" + binint(10) + b"\x85R.")
    note("reduce_storage.bin", "REDUCE calling torch.FloatStorage (an allowed global, but not callable)")
    checkpoint(p("reduce_ordereddict_args.bin"),
               b"\x80\x02ccollections\nOrderedDict\n]" + b"\x85R.")
    note("reduce_ordereddict_args.bin", "OrderedDict called with arguments")
    checkpoint(p("missing_storage.bin"), tensor_program(key="7"))
    note("missing_storage.bin", "persistent id names storage '7', the archive has only data/0")
    checkpoint(p("storage_too_short.bin"), tensor_program(numel=100, size=(100,)))
    note("storage_too_short.bin", "the persistent id says 100 elements, the entry holds 16 bytes")
    checkpoint(p("extent_past_storage.bin"), tensor_program(size=(3,), stride=(2,)))
    note("extent_past_storage.bin", "size 3, stride 2 reaches element 4 of a 4-element storage")
    checkpoint(p("offset_past_storage.bin"), tensor_program(offset=3, size=(2,)))
    note("offset_past_storage.bin", "offset 3 + 2 elements in a 4-element storage")
    checkpoint(p("stride_overflow.bin"),
               tensor_program(size=(2, 2), stride=(2**31 - 1, 2**31 - 1)).replace(b"J\xff\xff\xff\x7f", b"\x8a\x08" +
                                                                                    struct.pack("<q", 2**62)))
    note("stride_overflow.bin", "strides of 2^62: offset + (size - 1) * stride overflows 64 bits")
    checkpoint(p("double_storage.bin"), tensor_program(storage="DoubleStorage"), {"0": struct.pack("<4d", 1, 2, 3, 4)})
    note("double_storage.bin", "torch.DoubleStorage: float64 is not read")
    checkpoint(p("not_a_tensor.bin"),
               b"\x80\x02ccollections\nOrderedDict\n)R" + unicode("epoch") + binint(3) + b"s.")
    note("not_a_tensor.bin", "a dict whose value is an int (a training checkpoint, not a state_dict)")
    checkpoint(p("truncated_pickle.bin"), tensor_program()[:-9])
    note("truncated_pickle.bin", "data.pkl cut short before STOP")

    # A real torch.save file re-zipped with deflate.
    buffer = io.BytesIO()
    torch.save(collections.OrderedDict(w=torch.arange(64, dtype=torch.float32)), buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        entries = [(name, z.read(name)) for name in z.namelist()]
    write_zip(p("compressed_entry.bin"), entries, zipfile.ZIP_DEFLATED)
    note("compressed_entry.bin", "a torch.save file whose entries are deflate-compressed")

    # The central directory offset in the end record pointed past the end of the file.
    data = bytearray(open(p("valid.bin"), "rb").read())
    end = data.rfind(b"PK\x05\x06")
    data[end + 16:end + 20] = struct.pack("<I", len(data) + 1000)
    open(p("directory_outside.bin"), "wb").write(bytes(data))
    note("directory_outside.bin", "end record: central directory offset past the end of the file")
    # A central directory entry whose local header offset points past the directory.
    data = bytearray(open(p("valid.bin"), "rb").read())
    central = data.find(b"PK\x01\x02")
    data[central + 42:central + 46] = struct.pack("<I", 0x7ffffff0)
    open(p("entry_outside.bin"), "wb").write(bytes(data))
    note("entry_outside.bin", "first entry's local header offset far past the end of the file")
    data = open(p("valid.bin"), "rb").read()
    open(p("truncated_zip.bin"), "wb").write(data[:len(data) // 2])
    note("truncated_zip.bin", "the first half of valid.bin (no end record)")

    buffer = io.BytesIO()
    torch.save(collections.OrderedDict(w=torch.ones(2)), buffer, _use_new_zipfile_serialization=False)
    open(p("legacy_format.bin"), "wb").write(buffer.getvalue())
    note("legacy_format.bin", "torch.save(..., _use_new_zipfile_serialization=False): the pre-1.6 format")

    with open(os.path.join(folder, "README.md"), "w") as f:
        f.write("# Hostile pytorch_model.bin files\n\nMade by tools/make_bin_fixtures.py; each must be refused "
                "with a one-line Error(ModelFormat) naming the file\n(tests/unit/test_pytorch_checkpoint.cpp "
                "checks the message), except valid.bin.\n\n| file | what is wrong |\n| --- | --- |\n")
        f.write("\n".join(readme) + "\n")


def main():
    if not os.path.isdir(GOLDEN):
        sys.exit("run from a checkout: %s is missing" % GOLDEN)
    os.makedirs(OUT, exist_ok=True)
    golden_fixtures()
    sharded_fixture()
    features_fixture()
    hostile_fixtures()
    print("wrote", OUT)


if __name__ == "__main__":
    main()
