// libpq, the PostgreSQL client library, loaded when a PostgreSQL store is
// first opened rather than linked into every executable.
//
// libpq pulls in Kerberos, LDAP, GnuTLS and SASL (some twenty shared
// libraries): linked, every `regenpath assess` process paid for mapping and
// relocating them, about 15 % of a whole-process assessment, although the
// embedded default store is SQLite. Here the stores call libpq through
// Pq(), whose function pointers carry libpq's own names and types.
//
//   RP_RETURN_IF_ERROR(postgres::LoadLibPq());   // before the first call
//   PGconn* connection = postgres::Pq().PQconnectdb(conninfo);
//
// LoadLibPq is thread-safe and loads once; Pq() may be called only after it
// succeeded. libpq's types and constants come from its header as usual.
#ifndef REGENPATH_POSTGRES_LIBPQ_H_
#define REGENPATH_POSTGRES_LIBPQ_H_

#include <libpq-fe.h>

#include "common/status.h"

namespace regenpath::postgres {

struct LibPq {
  decltype(&::PQconnectdb) PQconnectdb;
  decltype(&::PQstatus) PQstatus;
  decltype(&::PQerrorMessage) PQerrorMessage;
  decltype(&::PQfinish) PQfinish;
  decltype(&::PQreset) PQreset;
  decltype(&::PQexec) PQexec;
  decltype(&::PQexecParams) PQexecParams;
  decltype(&::PQprepare) PQprepare;
  decltype(&::PQresultStatus) PQresultStatus;
  decltype(&::PQresultErrorMessage) PQresultErrorMessage;
  decltype(&::PQresultErrorField) PQresultErrorField;
  decltype(&::PQclear) PQclear;
  decltype(&::PQntuples) PQntuples;
  decltype(&::PQgetvalue) PQgetvalue;
  decltype(&::PQgetlength) PQgetlength;
  decltype(&::PQgetisnull) PQgetisnull;
  decltype(&::PQgetResult) PQgetResult;
  decltype(&::PQenterPipelineMode) PQenterPipelineMode;
  decltype(&::PQexitPipelineMode) PQexitPipelineMode;
  decltype(&::PQpipelineSync) PQpipelineSync;
  decltype(&::PQsendFlushRequest) PQsendFlushRequest;
  decltype(&::PQsendQueryPrepared) PQsendQueryPrepared;
  decltype(&::PQflush) PQflush;
  decltype(&::PQgetCancel) PQgetCancel;
  decltype(&::PQcancel) PQcancel;
  decltype(&::PQfreeCancel) PQfreeCancel;
  decltype(&::PQgetCopyData) PQgetCopyData;
  decltype(&::PQfreemem) PQfreemem;
  decltype(&::PQescapeLiteral) PQescapeLiteral;
};

// Loads libpq.so.5 and every function above, once. kUnavailable, naming the
// library and the Debian package, when it or a function is missing.
Status LoadLibPq();

// The loaded library. Only after LoadLibPq() succeeded.
const LibPq& Pq();

// PQclear through Pq(), for std::unique_ptr<PGresult, ...> deleters.
void ClearResult(PGresult* result);

}  // namespace regenpath::postgres

#endif  // REGENPATH_POSTGRES_LIBPQ_H_
