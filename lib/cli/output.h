// Where a tool's result records go (text, TSV or JSON lines), the same way in every tool:
//  * no path: standard output, each record as soon as it is done;
//  * -o FILE: written to a temporary file beside it as records come, renamed into place at the
//    end; a run stopped by SIGINT/SIGTERM (or an error) leaves FILE as it was;
//  * -o FILE with --skip-existing (JSON lines only): FILE is a journal. Its first line says so
//    ({"perceiver_journal":1,"tool":"perceiver-classify","shard":"0/1"}), so a file the tool did
//    not write (or one of another tool or shard) is refused and never changed; its complete
//    records are kept, a torn last line (no trailing newline, or not valid JSON) is cut off,
//    inputs already in it are skipped (contains(); failed_before() for error records), and each new record is appended as one whole
//    line as soon as it is done. The journal is locked (flock) while a run has it open, so a
//    second run on the same file is refused instead of doubling its records. A run killed at
//    any point and run again with the same command ends with the same bytes as an
//    uninterrupted run.
// A -o that is a character device or FIFO is written as it goes (like stdout); a journal must be
// a regular file.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "common/atomic_file.h"
#include "common/error.h"

namespace perceiver::cli {

// The input a JSON line is about ("file", plus "line" where a tool has one), nullopt when the
// line is not a record of the tool.
using RecordKey = std::function<std::optional<std::string>(const nlohmann::json&)>;

// The usual key: the "file" field (or the exact bytes in "file_bytes", below), and "line" when
// present (perceiver-mlm --lines).
std::optional<std::string> file_record_key(const nlohmann::json& record);

// A record's "file": the name as JSON text, and when the name is not valid UTF-8 (JSON cannot
// hold it, so "file" shows it with U+FFFD) also "file_bytes", the name's bytes in hex, so that
// --skip-existing recognises any name the file system allows. The fields as an object, or as the
// text `"file":…[,"file_bytes":…]` for records written by hand.
nlohmann::json file_fields(const std::string& file);
std::string file_fields_text(const std::string& file);
std::string input_key(const std::string& file, int64_t line = 0);

// The first line of a journal written by `program` for `shard`.
std::string journal_header(const std::string& program, const std::string& shard);

class ResultOutput {
 public:
  // `program` prefixes notes on stderr (a torn line cut off) and names the journal's tool;
  // `shard` ("I/N") is the journal's shard. Every check of the -o path (and the journal's lock)
  // happens here, before any work.
  ResultOutput(const char* program, std::string path, bool journal, const std::string& shard = "0/1",
               RecordKey key = file_record_key);
  ~ResultOutput();
  ResultOutput(const ResultOutput&) = delete;
  ResultOutput& operator=(const ResultOutput&) = delete;

  bool journal() const { return journal_fd_ >= 0; }
  // Journal: the input already has a record in the file.
  bool contains(const std::string& key) const { return present_.count(key) != 0; }
  // Journal: the input's record is an error (it failed in an earlier run). Such an input is
  // skipped too (a bad file stays bad), but still counts towards exit code 10, so a rerun or a
  // retry does not hide it.
  bool failed_before(const std::string& key) const { return failed_.count(key) != 0; }
  // Whole records only (one or more complete lines).
  void write(const std::string& text);
  // A record written in parts (a document with very many masks): parts are kept and written
  // together at end_record(), so a small record is still one write; past 1 MiB they go out as
  // they come, so memory stays bounded. abandon_record() drops the record: what was not written
  // yet, and in a journal or -o file what was (cut back to where the record began); on stdout or
  // a device a record already partly out ends with a newline there.
  void write_part(const std::string& text);
  void end_record();
  void abandon_record();
  // Renames the whole-mode file into place (only when `complete`, so an interrupted run does not
  // replace a finished file with part of one; otherwise its temporary file is removed), or
  // closes the journal. Call once, at the end.
  void close(bool complete = true);

 private:
  void open_journal(const char* program, const std::string& shard, const RecordKey& key);
  void emit(const std::string& text);
  std::string path_;
  int journal_fd_ = -1;
  std::unique_ptr<AtomicOutputFile> file_;  // -o without a journal: written as records come
  std::string pending_;                     // parts of the current record not written yet
  bool record_started_ = false;             // some of the current record is already written
  uint64_t record_start_ = 0;               // where (journal, -o file)
  std::set<std::string> present_, failed_;
};

}  // namespace perceiver::cli
