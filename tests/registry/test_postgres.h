// A real PostgreSQL 15 server for the registry tests, started in a temp
// directory on a Unix socket (no TCP) and stopped at the end of the test
// program. initdb and postgres refuse to run as root: as root the server
// runs as the `postgres` user through runuser (Debian's postgresql-15
// creates it). REGENPATH_TEST_PG_CONNINFO points the tests at an existing
// server instead. If the server cannot be started the PostgreSQL tests
// FAIL (they never skip): CI must have postgresql-15.
#ifndef REGENPATH_TESTS_REGISTRY_TEST_POSTGRES_H_
#define REGENPATH_TESTS_REGISTRY_TEST_POSTGRES_H_

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

#include "postgres/libpq.h"

namespace regenpath::registry::testing {

class TestPostgres {
 public:
  static constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

  // The shared server (started on first use). Empty conninfo + error() when it could not start.
  static TestPostgres& Instance() {
    static TestPostgres* server = new TestPostgres();  // stopped by StopShared()
    return *server;
  }
  static void StopShared() { Instance().Stop(); }

  // A connection string to a fresh, empty database; empty on failure (see error()).
  std::string FreshDatabase() {
    std::lock_guard lock(mutex_);
    if (!started_ && !Start()) return "";
    std::string name = "registry_" + std::to_string(++databases_);
    if (Status loaded = postgres::LoadLibPq(); !loaded.ok()) {
      error_ = loaded.message();
      return "";
    }
    PGconn* conn = postgres::Pq().PQconnectdb((base_conninfo_ + " dbname=postgres").c_str());
    if (postgres::Pq().PQstatus(conn) != CONNECTION_OK) {
      error_ = std::string("connect: ") + postgres::Pq().PQerrorMessage(conn);
      postgres::Pq().PQfinish(conn);
      return "";
    }
    PGresult* result = postgres::Pq().PQexec(conn, ("CREATE DATABASE " + name).c_str());
    bool ok = postgres::Pq().PQresultStatus(result) == PGRES_COMMAND_OK;
    if (!ok) error_ = std::string("create database: ") + postgres::Pq().PQerrorMessage(conn);
    postgres::Pq().PQclear(result);
    postgres::Pq().PQfinish(conn);
    return ok ? base_conninfo_ + " dbname=" + name : "";
  }
  const std::string& error() const { return error_; }
  // The server's data directory (empty for an external server).
  const std::string& data_dir() const { return data_dir_; }

  // Runs `command` as the server's user (runuser when root).
  int AsServerUser(const std::string& command) {
    std::string full = geteuid() == 0 ? "runuser -u postgres -- sh -c '" + command + "'" : command;
    return std::system(full.c_str());
  }

  void Stop() {
    std::lock_guard lock(mutex_);
    if (!started_ || dir_.empty()) return;
    AsServerUser(std::string(kBin) + "/pg_ctl -D " + data_dir_ + " -m immediate -w stop >/dev/null 2>&1");
    std::filesystem::remove_all(dir_);
    started_ = false;
  }

 private:
  TestPostgres() = default;

  bool Start() {
    if (const char* external = std::getenv("REGENPATH_TEST_PG_CONNINFO")) {
      base_conninfo_ = external;
      started_ = true;
      return true;
    }
    char pattern[] = "/tmp/regenpath-pg-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
      error_ = "mkdtemp failed";
      return false;
    }
    dir_ = pattern;
    data_dir_ = dir_ + "/data";
    if (geteuid() == 0 && std::system(("chown postgres " + dir_).c_str()) != 0) {
      error_ = "as root, chown to the postgres user failed: is postgresql-15 installed?";
      return false;
    }
    std::string initdb = std::string(kBin) + "/initdb -D " + data_dir_ + " -A trust -U regenpath --no-sync >" + dir_ +
                         "/initdb.log 2>&1";
    if (AsServerUser(initdb) != 0) {
      error_ = "initdb failed (see " + dir_ + "/initdb.log); is postgresql-15 installed?";
      return false;
    }
    std::string start = std::string(kBin) + "/pg_ctl -D " + data_dir_ + " -l " + dir_ + "/server.log -o \"-k " + dir_ +
                        " -c listen_addresses= -p 5432\" -w -t 60 start >/dev/null 2>&1";
    if (AsServerUser(start) != 0) {
      error_ = "pg_ctl start failed (see " + dir_ + "/server.log)";
      return false;
    }
    base_conninfo_ = "host=" + dir_ + " port=5432 user=regenpath";
    started_ = true;
    return true;
  }

  std::mutex mutex_;
  bool started_ = false;
  int databases_ = 0;
  std::string dir_;
  std::string data_dir_;
  std::string base_conninfo_;
  std::string error_;
};

// Stops the shared server when the test program ends.
class PostgresEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { TestPostgres::StopShared(); }
};

}  // namespace regenpath::registry::testing

#endif  // REGENPATH_TESTS_REGISTRY_TEST_POSTGRES_H_
