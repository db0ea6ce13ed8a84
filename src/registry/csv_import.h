// The registry's CSV, for clinics without FHIR (docs/registry.md, "CSV
// import"): one row per procedure, score or adverse event, converted here to
// the FHIR resources FhirImporter reads (one NDJSON line per row), so a CSV
// row is checked, keyed and upserted exactly as the same data sent as FHIR.
//
// Rows that cannot be converted (a bad number, a missing required value, a
// value in a column that does not apply to the row's record type) get an
// issue with their line and column and are left out; the others are
// imported. Importer issues of converted rows are mapped back to the row's
// line and the column of the offending element (CsvLocation). Pure
// functions; thread-safe.
#ifndef REGENPATH_REGISTRY_CSV_IMPORT_H_
#define REGENPATH_REGISTRY_CSV_IMPORT_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "registry/fhir_import.h"

namespace regenpath::registry {

// The identifier system of the `id` column (keys "Procedure|urn:regenpath:csv|<id>", ...).
inline constexpr std::string_view kCsvIdentifierSystem = "urn:regenpath:csv";
// The identifier system of the `patient` column when the file has no `patient_system` column.
inline constexpr std::string_view kCsvPatientSystem = "urn:regenpath:csv-patient";

struct CsvIssue {
  int line = 0;    // 1-based line of the file
  int column = 0;  // 1-based column (field) number; 0: the whole row
  std::string message;
};

struct CsvConversion {
  std::vector<std::string> header;
  std::string ndjson;           // one FHIR resource per converted row
  std::vector<int> lines;       // the file line of each NDJSON line
  std::vector<CsvIssue> issues; // rows not converted
  int rows = 0;                 // data rows read
};

// Converts `csv` (UTF-8, comma-separated, RFC 4180 quoting without line
// breaks inside fields, a header line first). kInvalidInput naming line 1
// and the column for a header without the required columns or with an
// unknown one.
Result<CsvConversion> ConvertCsv(std::string_view csv);

// "line:column" (or "line") of an issue the importer raised on the NDJSON
// of `conversion`.
std::string CsvLocation(const CsvConversion& conversion, const ImportIssue& issue);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_CSV_IMPORT_H_
