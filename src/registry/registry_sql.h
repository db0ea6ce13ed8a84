// The SQL the SQLite and PostgreSQL registry stores share: every statement
// is written once, with `?` parameters and two markers, and ForDialect()
// turns it into each database's form. The stores keep only what differs:
// the client library calls, transactions, error mapping and how a create is
// told from an update.
#ifndef REGENPATH_REGISTRY_REGISTRY_SQL_H_
#define REGENPATH_REGISTRY_REGISTRY_SQL_H_

#include <string>
#include <string_view>

#include "registry/registry_schema.h"

namespace regenpath::registry::sql {

// `sql` for `dialect`: each `?` becomes $1, $2, ... for PostgreSQL;
// {C} becomes COLLATE "C" for PostgreSQL (byte order, as SQLite's BINARY)
// and nothing for SQLite.
std::string ForDialect(std::string_view sql, SqlDialect dialect);
// "?,?,...,?" with `count` parameters (an IN list).
std::string Parameters(int count);

// Columns, in the order the stores read them.
inline constexpr const char* kEpisodeColumns =
    "key, patient, option_id, therapy, target, condition, side, start_date, assessment_stage, option_status, "
    "kb_version, feedback, override_reason, synthetic";
inline constexpr const char* kProcedureColumns =
    "key, episode_key, patient, date, kind, image_guidance, prp_leukocytes, volume_ml, platelet_concentration, "
    "bmc_nucleated_cells, dextrose_percent, series_number";
inline constexpr const char* kOutcomeColumns = "key, patient, instrument, date, value";
inline constexpr const char* kAdverseEventColumns =
    "key, patient, episode_key, category, serious, onset, resolved, relatedness";
inline constexpr const char* kFactsColumns = "option_id, episode_key, patient, synthetic, groups, data";

// Writes (parameters in the column order above).
inline constexpr const char* kInsertMeta =
    "INSERT INTO meta(name, value) VALUES ('synthetic', ?) ON CONFLICT(name) DO NOTHING";
inline constexpr const char* kInsertPatient =
    "INSERT INTO patients(pseudonym, synthetic) VALUES (?, ?) ON CONFLICT(pseudonym) DO NOTHING";
// A later import keeps what an earlier one recorded unless it brings a value,
// and the start date is the earliest procedure's.
inline constexpr const char* kUpsertEpisode = R"sql(INSERT INTO episodes(key, patient, option_id, therapy, target,
  condition, side, start_date, assessment_stage, option_status, kb_version, feedback, override_reason, synthetic)
  VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET
  condition = CASE WHEN excluded.condition <> '' THEN excluded.condition ELSE episodes.condition END,
  start_date = CASE WHEN excluded.start_date < episodes.start_date THEN excluded.start_date ELSE episodes.start_date END,
  assessment_stage = CASE WHEN excluded.assessment_stage <> '' THEN excluded.assessment_stage ELSE episodes.assessment_stage END,
  option_status = CASE WHEN excluded.option_status <> '' THEN excluded.option_status ELSE episodes.option_status END,
  kb_version = CASE WHEN excluded.kb_version <> '' THEN excluded.kb_version ELSE episodes.kb_version END,
  feedback = CASE WHEN excluded.feedback <> '' THEN excluded.feedback ELSE episodes.feedback END,
  override_reason = CASE WHEN excluded.override_reason <> '' THEN excluded.override_reason ELSE episodes.override_reason END)sql";
inline constexpr const char* kUpsertProcedure = R"sql(INSERT INTO procedures(key, episode_key, patient, date, kind,
  image_guidance, prp_leukocytes, volume_ml, platelet_concentration, bmc_nucleated_cells, dextrose_percent, series_number)
  VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET episode_key = excluded.episode_key,
  date = excluded.date, kind = excluded.kind, image_guidance = excluded.image_guidance,
  prp_leukocytes = excluded.prp_leukocytes, volume_ml = excluded.volume_ml,
  platelet_concentration = excluded.platelet_concentration, bmc_nucleated_cells = excluded.bmc_nucleated_cells,
  dextrose_percent = excluded.dextrose_percent, series_number = excluded.series_number)sql";
inline constexpr const char* kUpsertOutcome = R"sql(INSERT INTO outcomes(key, patient, instrument, date, value)
  VALUES (?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET instrument = excluded.instrument, date = excluded.date,
  value = excluded.value)sql";
inline constexpr const char* kUpsertAdverseEvent = R"sql(INSERT INTO adverse_events(key, patient, episode_key,
  category, serious, onset, resolved, relatedness) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET
  episode_key = excluded.episode_key, category = excluded.category, serious = excluded.serious,
  onset = excluded.onset, resolved = excluded.resolved, relatedness = excluded.relatedness)sql";
// The migrations' audit rows (the entity_count column comes with migration 4;
// its default is 1) and the writes' (audit_entities.h).
inline constexpr const char* kInsertAudit =
    "INSERT INTO audit(recorded, actor, action, entity_type, entity, outcome) VALUES (?,?,?,?,?,?)";
inline constexpr const char* kInsertAuditEntities =
    "INSERT INTO audit(recorded, actor, action, entity_type, entity, entity_count, outcome) VALUES (?,?,?,?,?,?,?)";
inline constexpr const char* kMarkStale =
    "INSERT INTO stale_patients(patient, version) VALUES (?, 1) ON CONFLICT(patient) DO UPDATE SET "
    "version = stale_patients.version + 1";

// Report facts.
inline constexpr const char* kReadFingerprint = "SELECT value FROM meta WHERE name = 'facts_fingerprint'";
inline constexpr const char* kWriteFingerprint =
    "INSERT INTO meta(name, value) VALUES ('facts_fingerprint', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value";
inline constexpr const char* kMarkAllStale =
    "INSERT INTO stale_patients(patient, version) SELECT pseudonym, 1 FROM patients WHERE true ON CONFLICT(patient) "
    "DO UPDATE SET version = stale_patients.version + 1";
inline constexpr const char* kStalePatients = "SELECT patient, version FROM stale_patients ORDER BY patient{C} LIMIT ?";
inline constexpr const char* kInsertFacts =
    "INSERT INTO episode_facts(option_id, episode_key, patient, synthetic, groups, data) VALUES (?,?,?,?,?,?)";
inline constexpr const char* kClearStale = "DELETE FROM stale_patients WHERE patient = ? AND version = ?";

// Follow-up worklist candidates (DueRow, due_windows.h): an episode's keys
// once in `due_episodes` (its id assigned by the database), its windows in
// `due_windows` under the ids episode * kDueWindowsPerEpisode + ordinal (the
// literal 65536 below).
inline constexpr const char* kInsertDueEpisode =
    "INSERT INTO due_episodes(patient, episode_key, option_id, procedure_key) VALUES (?,?,?,?)";
// SQLite: the window's id is the first parameter (from
// sqlite3_last_insert_rowid after kInsertDueEpisode). PostgreSQL: the first
// parameter is the ordinal, added to the id the session's last
// kInsertDueEpisode drew from the identity's sequence (a pipeline runs its
// statements in order).
inline constexpr const char* kInsertDueWindowSqlite =
    "INSERT INTO due_windows(id, window_last, window_first, any_unseen, candidates) VALUES (?,?,?,?,?)";
inline constexpr const char* kInsertDueWindowPostgres =
    "INSERT INTO due_windows(id, window_last, window_first, any_unseen, candidates) VALUES "
    "(currval(pg_get_serial_sequence('due_episodes', 'id')) * 65536 + $1, $2, $3, $4, $5)";
// The windows of the patients in {IN} (each episode's range of ids), then
// their episodes (in this order).
inline constexpr const char* kDeletePatientsDue =
    "DELETE FROM due_windows WHERE id IN (SELECT w.id FROM due_episodes e JOIN due_windows w ON w.id >= e.id * 65536 "
    "AND w.id < (e.id + 1) * 65536 WHERE e.patient IN ({IN}))";
inline constexpr const char* kDeletePatientsDueEpisodes = "DELETE FROM due_episodes WHERE patient IN ({IN})";
// A read of FetchDueWindows (due_windows.h): parameters last_bound, today,
// today, then (with a start) its window_last twice, episode_key and
// option_id, then (with a limit) the limit. Results: window_last,
// candidates, episode_key, option_id, patient, procedure_key. Read through
// the index on window_last, each window joined to its episode by id, the
// ties of a day sorted.
std::string LoadDueWindowsStatement(bool with_start, bool start_inclusive, bool with_limit);

// Reads of LoadPatients(): {IN} is replaced by an IN list of the patients.
inline constexpr const char* kPatientsEpisodes = "SELECT {COLUMNS} FROM episodes WHERE patient IN ({IN}) ORDER BY key{C}";
inline constexpr const char* kPatientsProcedures =
    "SELECT {COLUMNS} FROM procedures WHERE episode_key IN (SELECT key FROM episodes WHERE patient IN ({IN})) "
    "ORDER BY episode_key{C}, date{C}, key{C}";
inline constexpr const char* kPatientsOutcomes =
    "SELECT {COLUMNS} FROM outcomes WHERE patient IN ({IN}) ORDER BY patient{C}, instrument{C}, date{C}, key{C}";
inline constexpr const char* kPatientsAdverseEvents =
    "SELECT {COLUMNS} FROM adverse_events WHERE patient IN ({IN}) ORDER BY patient{C}, onset{C}, key{C}";
inline constexpr const char* kDeletePatientsFacts = "DELETE FROM episode_facts WHERE patient IN ({IN})";
// What a facts refresh deletes of the patients in {IN} before it writes
// their facts again, in this order (a window before its episode), each with
// what an error names.
struct PatientsDelete {
  const char* sql;
  const char* what;
};
inline constexpr PatientsDelete kDeletePatientsDerived[] = {
    {kDeletePatientsFacts, "delete facts"},
    {kDeletePatientsDue, "delete worklist candidates"},
    {kDeletePatientsDueEpisodes, "delete worklist candidates"}};
// `statement` with {COLUMNS} and {IN} filled (count parameters).
std::string WithColumnsAndIn(std::string_view statement, std::string_view columns, int count);

}  // namespace regenpath::registry::sql

#endif  // REGENPATH_REGISTRY_REGISTRY_SQL_H_
