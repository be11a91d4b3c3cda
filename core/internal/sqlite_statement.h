// sqlite_statement.h (core-internal): a prepared SQLite statement that
// finalizes itself and turns every failure into an IoError naming the database.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "core/error.h"

namespace grpo::internal {

class Statement {
 public:
  Statement(sqlite3* db, const std::string& db_path, const char* sql) : db_(db), path_(db_path) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw IoError(path_, std::string("SQL prepare failed: ") + sqlite3_errmsg(db) + " in: " + sql);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Statement& bind(int i, const std::string& v) {
    return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  // True while a row is available.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw IoError(path_, std::string("SQL step failed: ") + sqlite3_errmsg(db_));
  }
  void run_and_reset() {
    step();
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t int_at(int col) const { return sqlite3_column_int64(stmt_, col); }
  double double_at(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string text_at(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
  }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) throw IoError(path_, std::string("SQL bind failed: ") + sqlite3_errmsg(db_));
    return *this;
  }
  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace grpo::internal
