#include "cli/output.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/escape.h"
#include "common/json.h"
#include "media/byte_tokenizer.h"

namespace perceiver::cli {

std::string input_key(const std::string& file, int64_t line) { return file + '\n' + std::to_string(line); }

namespace {

std::string to_hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) hex += digits[c >> 4], hex += digits[c & 15];
  return hex;
}

std::optional<std::string> from_hex(const std::string& hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int value = 0;
    for (size_t k = i; k < i + 2; ++k) {
      const char c = hex[k];
      const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (digit < 0) return std::nullopt;
      value = value * 16 + digit;
    }
    bytes.push_back(static_cast<char>(value));
  }
  return bytes;
}

std::string json_string(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

nlohmann::json file_fields(const std::string& file) {
  nlohmann::json fields = {{"file", tokenizer::utf8_replace_invalid(file)}};
  if (fields["file"].get_ref<const std::string&>() != file) fields["file_bytes"] = to_hex(file);
  return fields;
}

std::string file_fields_text(const std::string& file) {
  const std::string shown = tokenizer::utf8_replace_invalid(file);
  std::string text = "\"file\":" + json_string(shown);
  if (shown != file) text += ",\"file_bytes\":\"" + to_hex(file) + "\"";
  return text;
}

std::optional<std::string> file_record_key(const nlohmann::json& record) {
  if (!record.is_object()) return std::nullopt;
  const auto file = record.find("file");
  if (file == record.end() || !file->is_string()) return std::nullopt;
  std::string name = file->get<std::string>();
  if (const auto bytes = record.find("file_bytes"); bytes != record.end()) {
    const auto raw = bytes->is_string() ? from_hex(bytes->get<std::string>()) : std::nullopt;
    if (!raw) return std::nullopt;
    name = *raw;
  }
  int64_t line = 0;
  if (const auto l = record.find("line"); l != record.end()) {
    if (!l->is_number_integer()) return std::nullopt;
    line = l->get<int64_t>();
  }
  return input_key(name, line);
}

std::string journal_header(const std::string& program, const std::string& shard) {
  return nlohmann::json{{"perceiver_journal", 1}, {"tool", program}, {"shard", shard}}.dump() + "\n";
}

ResultOutput::ResultOutput(const char* program, std::string path, bool journal, const std::string& shard, RecordKey key)
    : path_(std::move(path)) {
  if (path_.empty()) return;
  if (!journal) {
    file_ = std::make_unique<AtomicOutputFile>(path_);
    return;
  }
  if (classify_output(path_) == OutputTarget::Stream)
    fail(ErrorKind::Output, path_ + ": a --skip-existing journal must be a regular file (this is a device or FIFO)");
  open_journal(program, shard, key);
}

ResultOutput::~ResultOutput() {
  if (journal_fd_ >= 0) ::close(journal_fd_);
}

namespace {

std::string read_all(int fd, const std::string& path) {
  std::string text;
  char chunk[1 << 16];
  for (off_t offset = 0;;) {
    const ssize_t n = ::pread(fd, chunk, sizeof chunk, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(ErrorKind::Output, path + ": cannot read the existing journal (" + std::strerror(errno) + ")");
    if (n == 0) return text;
    text.append(chunk, static_cast<size_t>(n));
    offset += n;
  }
}

void write_all(int fd, const std::string& text, const std::string& path) {
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(ErrorKind::Output, path + ": write failed (" + std::strerror(errno) + ")");
    written += static_cast<size_t>(n);
  }
}

}  // namespace

void ResultOutput::open_journal(const char* program, const std::string& shard, const RecordKey& key) {
  // Open (creating) and lock before reading, so two runs cannot both take the same journal.
  int& fd_ = journal_fd_;
  fd_ = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ < 0) fail(ErrorKind::Output, path_ + ": cannot open the journal (" + std::strerror(errno) + ")");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
    fail(ErrorKind::Output, path_ + ": another run is writing this journal (it is locked); wait for it to end, "
                                    "or give another -o");
  const std::string text = read_all(fd_, path_);
  const std::string header = journal_header(program, shard);
  if (text.empty()) {
    write_all(fd_, header, path_);
    return;
  }
  const size_t first_end = text.find('\n');
  const std::string first = text.substr(0, first_end == std::string::npos ? text.size() : first_end + 1);
  if (first != header) {
    nlohmann::json parsed;
    try {
      parsed = parse_json(first, path_, ErrorKind::Output);
    } catch (const Error&) {
    }
    if (parsed.is_object() && parsed.contains("perceiver_journal") && parsed.value("tool", "") == program)
      fail(ErrorKind::Usage, path_ + ": a journal of --shard " + parsed.value("shard", std::string("?")) +
                                 ", not of this run's " + shard + " (give each shard its own -o)");
    fail(ErrorKind::Output, path_ + ": not a journal of " + program +
                                " (its first line is not the journal line), so --skip-existing leaves it as it "
                                "is; give another -o, or remove the file");
  }
  // Complete lines that parse are kept; the first that does not must be the last line.
  size_t kept = first.size();
  int64_t number = 1;
  while (kept < text.size()) {
    const size_t end = text.find('\n', kept);
    ++number;
    if (end == std::string::npos) break;  // no newline: torn
    std::optional<std::string> record;
    bool failure = false;
    try {
      const nlohmann::json parsed = parse_json(text.begin() + static_cast<std::ptrdiff_t>(kept),
                                               text.begin() + static_cast<std::ptrdiff_t>(end), path_, ErrorKind::Output);
      record = key(parsed);
      failure = parsed.is_object() && parsed.contains("error");
    } catch (const Error&) {  // not JSON, or nested too deep: not a record
    }
    if (!record) {
      if (end + 1 == text.size()) break;  // an invalid last line: torn
      fail(ErrorKind::Output, path_ + ":" + std::to_string(number) +
                                  ": not a record of this tool, so --skip-existing will not append to the file "
                                  "(remove it, or run without --skip-existing to replace it)");
    }
    present_.insert(*record);
    if (failure) failed_.insert(*record);
    kept = end + 1;
  }
  if (kept < text.size()) {
    if (::ftruncate(fd_, static_cast<off_t>(kept)) != 0)
      fail(ErrorKind::Output, path_ + ": cannot cut off the torn last line (" + std::strerror(errno) + ")");
    std::cerr << program << ": " << escape_control(path_) << ": dropped a torn last line (" << text.size() - kept
              << " bytes) left by an interrupted run" << std::endl;
  }
}

void ResultOutput::emit(const std::string& text) {
  if (journal_fd_ >= 0) {
    // One write() per record where the kernel allows: a killed run leaves whole lines, or at
    // worst one torn last line, which the next --skip-existing run cuts off.
    write_all(journal_fd_, text, path_);
  } else if (file_) {
    file_->write(text);
  } else {
    std::cout << text << std::flush;
    if (!std::cout) fail(ErrorKind::Output, "standard output: write failed");
  }
}

void ResultOutput::write(const std::string& text) {
  end_record();
  emit(text);
}

void ResultOutput::write_part(const std::string& text) {
  constexpr size_t kMaxPending = size_t{1} << 20;
  pending_ += text;
  if (pending_.size() > kMaxPending) {
    if (!record_started_) {
      record_started_ = true;
      if (journal_fd_ >= 0) record_start_ = static_cast<uint64_t>(::lseek(journal_fd_, 0, SEEK_END));
      else if (file_) record_start_ = file_->size();
    }
    emit(pending_);
    pending_.clear();
  }
}

void ResultOutput::end_record() {
  record_started_ = false;
  if (pending_.empty()) return;
  emit(pending_);
  pending_.clear();
}

void ResultOutput::abandon_record() {
  pending_.clear();
  if (!record_started_) return;
  record_started_ = false;
  if (journal_fd_ >= 0) {
    if (::ftruncate(journal_fd_, static_cast<off_t>(record_start_)) != 0)
      fail(ErrorKind::Output, path_ + ": cannot cut off an abandoned record (" + std::strerror(errno) + ")");
  } else if (!file_ || !file_->truncate(record_start_)) {
    emit("\n");  // stdout or a device: end the partial line
  }
}

void ResultOutput::close(bool complete) {
  if (complete) end_record();
  if (journal_fd_ >= 0) {
    const int fd = journal_fd_;
    journal_fd_ = -1;
    if (::close(fd) != 0) fail(ErrorKind::Output, path_ + ": write failed (" + std::strerror(errno) + ")");
  } else if (file_ && complete) {
    file_->commit();
  }
  file_.reset();  // not complete: the temporary file is removed
}

}  // namespace perceiver::cli
