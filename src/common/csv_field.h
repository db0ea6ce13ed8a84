// One field of a CSV file, for files people open in a spreadsheet.
// Pure function; thread-safe.
#ifndef REGENPATH_COMMON_CSV_FIELD_H_
#define REGENPATH_COMMON_CSV_FIELD_H_

#include <string>
#include <string_view>

namespace regenpath {

// `text` as RFC 4180 writes a field: quoted, its quotes doubled, when it
// holds a comma, a quote, a carriage return or a newline. A field that
// starts as a spreadsheet formula would (=, +, -, @, a tab or a carriage
// return) is written after an apostrophe, which spreadsheets show as text
// (OWASP: CSV injection): records' and users' words reach these files.
// Numbers written as numbers must not go through here.
std::string CsvField(std::string_view text);

}  // namespace regenpath

#endif  // REGENPATH_COMMON_CSV_FIELD_H_
