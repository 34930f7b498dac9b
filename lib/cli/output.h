// Where a tool's result records go (text, TSV or JSON lines), the same way in every tool:
//  * no path: standard output, each record as soon as it is done;
//  * -o FILE: kept in memory and written whole at the end (temporary name + rename); a run
//    stopped by SIGINT/SIGTERM (or an error) leaves FILE as it was;
//  * -o FILE with --skip-existing (JSON lines only): FILE is a journal. Its complete records are
//    kept, a torn last line (no trailing newline, or not valid JSON) is cut off, inputs already
//    in it are skipped (contains()), and each new record is appended as one whole line as soon
//    as it is done. A run killed at any point and run again with the same command ends with the
//    same bytes as an uninterrupted run.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>

namespace perceiver::cli {

// The input a JSON line is about ("file", plus "line" where a tool has one), nullopt when the
// line is not a record of the tool.
using RecordKey = std::function<std::optional<std::string>(const nlohmann::json&)>;

// The usual key: the "file" field, and "line" when present (perceiver-mlm --lines).
std::optional<std::string> file_record_key(const nlohmann::json& record);
std::string input_key(const std::string& file, int64_t line = 0);

class ResultOutput {
 public:
  // `program` prefixes notes on stderr (a torn line cut off).
  ResultOutput(const char* program, std::string path, bool journal, RecordKey key = file_record_key);
  ~ResultOutput();
  ResultOutput(const ResultOutput&) = delete;
  ResultOutput& operator=(const ResultOutput&) = delete;

  bool journal() const { return fd_ >= 0; }
  // Journal: the input already has a record in the file.
  bool contains(const std::string& key) const { return present_.count(key) != 0; }
  // Whole records only (one or more complete lines).
  void write(const std::string& text);
  // Writes the file (whole mode; only when `complete`, so an interrupted run does not replace a
  // finished file with part of one) or closes it (journal). Call once, at the end.
  void close(bool complete = true);

 private:
  void open_journal(const char* program, const RecordKey& key);
  std::string path_;
  int fd_ = -1;
  std::ostringstream buffer_;
  std::set<std::string> present_;
};

}  // namespace perceiver::cli
