#include "postgres/libpq.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace regenpath::postgres {

namespace {

// The soname of Debian 12's libpq5 (PostgreSQL 15's client library).
constexpr const char* kLibrary = "libpq.so.5";

LibPq library;
Status load_status;
std::once_flag loaded;

template <typename Function>
bool Bind(void* handle, const char* name, Function& slot, std::string& missing) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) {
    if (!missing.empty()) missing += ", ";
    missing += name;
    return false;
  }
  slot = reinterpret_cast<Function>(symbol);
  return true;
}

Status Load() {
  // RTLD_LOCAL: its dependencies stay out of the global symbol namespace.
  void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    return Unavailable(std::string("the PostgreSQL client library ") + kLibrary +
                       " could not be loaded (Debian package libpq5): " + (reason != nullptr ? reason : "unknown"));
  }
  std::string missing;
#define RP_BIND(name) Bind(handle, #name, library.name, missing)
  RP_BIND(PQconnectdb);
  RP_BIND(PQstatus);
  RP_BIND(PQerrorMessage);
  RP_BIND(PQfinish);
  RP_BIND(PQreset);
  RP_BIND(PQexec);
  RP_BIND(PQexecParams);
  RP_BIND(PQprepare);
  RP_BIND(PQresultStatus);
  RP_BIND(PQresultErrorMessage);
  RP_BIND(PQresultErrorField);
  RP_BIND(PQclear);
  RP_BIND(PQntuples);
  RP_BIND(PQgetvalue);
  RP_BIND(PQgetlength);
  RP_BIND(PQgetisnull);
  RP_BIND(PQgetResult);
  RP_BIND(PQenterPipelineMode);
  RP_BIND(PQexitPipelineMode);
  RP_BIND(PQpipelineSync);
  RP_BIND(PQsendFlushRequest);
  RP_BIND(PQsendQueryPrepared);
  RP_BIND(PQflush);
  RP_BIND(PQgetCancel);
  RP_BIND(PQcancel);
  RP_BIND(PQfreeCancel);
  RP_BIND(PQgetCopyData);
  RP_BIND(PQfreemem);
  RP_BIND(PQescapeLiteral);
#undef RP_BIND
  if (!missing.empty()) {
    // Kept loaded: nothing else was bound to it, and unloading buys nothing.
    return Unavailable(std::string("the PostgreSQL client library ") + kLibrary +
                       " lacks functions regenpath needs (PostgreSQL 14 or later): " + missing);
  }
  return Status::Ok();
}

}  // namespace

Status LoadLibPq() {
  std::call_once(loaded, [] { load_status = Load(); });
  return load_status;
}

const LibPq& Pq() { return library; }

void ClearResult(PGresult* result) {
  if (result != nullptr) library.PQclear(result);
}

}  // namespace regenpath::postgres
