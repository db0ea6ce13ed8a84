#include "registry/registry_schema.h"

namespace regenpath::registry {

namespace {

// Keys are text ("Procedure|<system>|<value>"), so an upsert needs no lookup
// of a generated id and the same rows come out of both stores.
constexpr Migration kMigrations[] = {
    {1, "outcomes registry: patients, episodes, procedures, outcomes, adverse events, audit", R"sql(
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE patients (
  pseudonym TEXT PRIMARY KEY,
  synthetic INTEGER NOT NULL
);
CREATE TABLE episodes (
  key TEXT PRIMARY KEY,
  patient TEXT NOT NULL REFERENCES patients(pseudonym),
  option_id TEXT NOT NULL,
  therapy TEXT NOT NULL,
  target TEXT NOT NULL,
  condition TEXT NOT NULL,
  side TEXT NOT NULL,
  start_date TEXT NOT NULL,
  assessment_stage TEXT NOT NULL,
  option_status TEXT NOT NULL,
  kb_version TEXT NOT NULL,
  feedback TEXT NOT NULL,
  override_reason TEXT NOT NULL,
  synthetic INTEGER NOT NULL
);
CREATE INDEX episodes_by_option ON episodes(option_id);
CREATE INDEX episodes_by_patient ON episodes(patient);
CREATE TABLE procedures (
  key TEXT PRIMARY KEY,
  episode_key TEXT NOT NULL REFERENCES episodes(key),
  patient TEXT NOT NULL REFERENCES patients(pseudonym),
  date TEXT NOT NULL,
  kind TEXT NOT NULL,
  image_guidance TEXT NOT NULL,
  prp_leukocytes TEXT NOT NULL,
  volume_ml {DOUBLE},
  platelet_concentration {DOUBLE},
  bmc_nucleated_cells {DOUBLE},
  dextrose_percent {DOUBLE},
  series_number INTEGER NOT NULL
);
CREATE INDEX procedures_by_episode ON procedures(episode_key);
CREATE TABLE outcomes (
  key TEXT PRIMARY KEY,
  patient TEXT NOT NULL REFERENCES patients(pseudonym),
  instrument TEXT NOT NULL,
  date TEXT NOT NULL,
  value {DOUBLE} NOT NULL
);
CREATE INDEX outcomes_by_patient ON outcomes(patient, instrument, date);
CREATE TABLE adverse_events (
  key TEXT PRIMARY KEY,
  patient TEXT NOT NULL REFERENCES patients(pseudonym),
  episode_key TEXT NOT NULL,
  category TEXT NOT NULL,
  serious INTEGER NOT NULL,
  onset TEXT NOT NULL,
  resolved TEXT NOT NULL,
  relatedness TEXT NOT NULL
);
CREATE INDEX adverse_events_by_patient ON adverse_events(patient);
CREATE TABLE audit (
  id {AUTO_ID},
  recorded TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity TEXT NOT NULL,
  outcome TEXT NOT NULL
)
)sql"},
    {2, "report facts: one row per episode, refreshed after the writes that touch its patient", R"sql(
CREATE TABLE episode_facts (
  option_id TEXT NOT NULL,
  episode_key TEXT NOT NULL,
  patient TEXT NOT NULL,
  synthetic INTEGER NOT NULL,
  groups TEXT NOT NULL,
  data {BLOB} NOT NULL,
  PRIMARY KEY (option_id, episode_key)
){WITHOUT_ROWID};
CREATE INDEX episode_facts_by_patient ON episode_facts(patient);
CREATE TABLE stale_patients (
  patient TEXT PRIMARY KEY,
  version INTEGER NOT NULL
);
INSERT INTO stale_patients(patient, version) SELECT pseudonym, 1 FROM patients
)sql"},
    // A heap (rowid) table with an index on the window end only: the rows of
    // a refresh are appended, so a bulk refresh writes each page about once
    // (a table clustered on the worklist's order scattered them over the
    // whole B-tree: the refresh took 77 s instead of 10 s at 100,000
    // episodes, bench/README.md). A page reads its window-end range from the
    // index and sorts the ties of its last day.
    {3, "follow-up worklist candidates, indexed by window end, refreshed with the report facts", R"sql(
CREATE TABLE due_items (
  window_last INTEGER NOT NULL,
  episode_key TEXT{COLLATE_C} NOT NULL,
  option_id TEXT{COLLATE_C} NOT NULL,
  instrument TEXT{COLLATE_C} NOT NULL,
  window_first INTEGER NOT NULL,
  weeks {DOUBLE} NOT NULL,
  seen_later INTEGER NOT NULL,
  patient TEXT NOT NULL,
  procedure_key TEXT NOT NULL
);
CREATE INDEX due_items_by_window_last ON due_items(window_last);
CREATE INDEX due_items_by_patient ON due_items(patient);
INSERT INTO stale_patients(patient, version) SELECT pseudonym, 1 FROM patients WHERE true
  ON CONFLICT(patient) DO UPDATE SET version = stale_patients.version + 1
)sql"},
    // One audit row per write, action and entity type for up to 1,000
    // entities (audit_entities.h) instead of one per row written: at
    // 100,000 episodes the per-row trail was the largest table and a third
    // of the bytes a bulk import wrote (bench/README.md). Earlier rows keep
    // their entity, as a one-element array.
    {4, "audit: a row lists the entities of one write, action and type (entity: JSON array of keys)", R"sql(
ALTER TABLE audit ADD COLUMN entity_count INTEGER NOT NULL DEFAULT 1;
UPDATE audit SET entity = {JSON_ARRAY_OF_ENTITY} WHERE entity NOT LIKE '[%'
)sql"},
    // The worklist candidates of migration 3 repeated their episode's four
    // keys (patient, episode, option, first procedure: ~100 bytes) in each
    // of an episode's ~10 rows, and were indexed by patient and window end:
    // at 100,000 episodes a quarter of the database, and the largest work a
    // bulk import did beyond its own rows (bench/README.md, run J). The keys
    // now live once per episode in `due_episodes`; `due_windows` holds one
    // row per episode and window end, its candidates encoded
    // (due_windows.h), under the id episode * 65536 + its ordinal among the
    // episode's: an episode's windows are one range of ids, so no index
    // leads from an episode to them, and in SQLite the id is the rowid (a
    // bulk write appends). The candidates are derived data: the migration
    // drops them and marks every patient stale, so the next refresh
    // computes them again.
    {5, "worklist candidates: the episode's keys once (due_episodes), one row per episode and window end (due_windows)",
     R"sql(
DROP TABLE due_items;
CREATE TABLE due_episodes (
  id {AUTO_ID},
  patient TEXT NOT NULL,
  episode_key TEXT{COLLATE_C} NOT NULL,
  option_id TEXT{COLLATE_C} NOT NULL,
  procedure_key TEXT NOT NULL
);
CREATE INDEX due_episodes_by_patient ON due_episodes(patient);
CREATE TABLE due_windows (
  id {INTEGER_KEY},
  window_last INTEGER NOT NULL,
  window_first INTEGER NOT NULL,
  any_unseen INTEGER NOT NULL,
  candidates TEXT NOT NULL
);
CREATE INDEX due_windows_by_window_last ON due_windows(window_last);
INSERT INTO stale_patients(patient, version) SELECT pseudonym, 1 FROM patients WHERE true
  ON CONFLICT(patient) DO UPDATE SET version = stale_patients.version + 1
)sql"},
};

}  // namespace

std::span<const Migration> RegistryMigrations() { return kMigrations; }

std::string MigrationSql(const Migration& migration, SqlDialect dialect) {
  std::string sql = migration.sql;
  auto replace_all = [&](std::string_view from, std::string_view to) {
    for (size_t at = sql.find(from); at != std::string::npos; at = sql.find(from, at + to.size())) {
      sql.replace(at, from.size(), to);
    }
  };
  bool sqlite = dialect == SqlDialect::kSqlite;
  replace_all("{DOUBLE}", sqlite ? "REAL" : "DOUBLE PRECISION");
  replace_all("{BLOB}", sqlite ? "BLOB" : "BYTEA");
  // Facts are read by option, in key order: clustered on the primary key.
  replace_all("{WITHOUT_ROWID}", sqlite ? " WITHOUT ROWID" : "");
  // Worklist keys sort as bytes in both (the C++ order of std::string).
  replace_all("{COLLATE_C}", sqlite ? "" : " COLLATE \"C\"");
  replace_all("{JSON_ARRAY_OF_ENTITY}", sqlite ? "json_array(entity)" : "json_build_array(entity)::text");
  // SQLite: the rowid itself (only this spelling makes the key the rowid).
  replace_all("{INTEGER_KEY}", sqlite ? "INTEGER PRIMARY KEY" : "BIGINT PRIMARY KEY");
  replace_all("{AUTO_ID}", sqlite ? "INTEGER PRIMARY KEY" : "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");
  return sql;
}

}  // namespace regenpath::registry
