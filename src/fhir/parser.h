// Parser: reads FHIR R4 JSON (a resource, a Bundle of any type, or NDJSON)
// into a Document.
//
// Failures and issues are kept apart:
//  - the input is not JSON, not UTF-8, nested too deeply, too large, or its
//    root is not a resource -> a failed Result with one clear line naming the
//    source and, where known, line:column;
//  - the JSON is fine but an element is wrong (a string where an object
//    belongs, an unknown element, a null, an unknown resource type) -> an
//    Issue with the element's FHIR path in Document::issues(); the rest of the
//    document is kept.
// No input can crash the parser or make it use memory beyond a small multiple
// of the input size.
//
// A Parser keeps buffers between calls to go faster on many documents; it is
// not thread-safe (use one per thread). Documents it returns are independent
// of it.
#ifndef REGENPATH_FHIR_PARSER_H_
#define REGENPATH_FHIR_PARSER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "fhir/document.h"
#include "fhir/element_filter.h"
#include "fhir/resource_filter.h"

namespace regenpath::fhir {

struct ParseOptions {
  // Deepest JSON nesting accepted (FHIR resources rarely exceed 30); with
  // check_skipped_json off, elements an ElementFilter skips are passed over
  // without recursion, whatever their depth.
  size_t max_depth = 256;
  // Largest input accepted, in bytes.
  size_t max_bytes = size_t{1} << 30;
  // Issues kept per document; more are counted in one final issue.
  size_t max_issues = 1000;
  // Report elements the R4 model does not know as warnings.
  bool report_unknown_elements = true;
  // Called with the root resource's type before anything else is read; the
  // filter it returns (or nullptr: read everything) decides which elements
  // are built. Elements skipped this way are neither built nor checked
  // against the FHIR model (but see check_skipped_json).
  // The returned filter must outlive the parse.
  std::function<const ElementFilter*(std::string_view root_type)> filter_for_root;
  // Walk the elements a filter skips, checking that they are well-formed
  // JSON within max_depth, so that an input is accepted or refused whatever
  // the filter reads of it (values the parser passes over for other reasons
  // — a repeated key, a nested array, the resourceType member — are always
  // checked). Off, skipped elements are passed over without being looked at:
  // only for text already checked whole (the CDS service's record,
  // assembled from a request it parsed with a validating parser).
  bool check_skipped_json = true;
  // Resources this filter passes over are built as skeletons
  // (fhir/resource_filter.h), within the filter_for_root's filter or not.
  // Must outlive the parse.
  const ResourceFilter* resource_filter = nullptr;
};

class Parser {
 public:
  explicit Parser(ParseOptions options = {});
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Parses one JSON resource. `source_name` labels messages ("patient.json").
  Result<Document> ParseResource(std::string_view json, std::string_view source_name);

  // Parses NDJSON: one resource per non-blank line. The Document's root is a
  // synthetic Bundle of type "collection" with one entry per good line; a bad
  // line becomes an Issue located at "line N" and is skipped. A UTF-8
  // byte-order mark before any line is not part of it (files that each began
  // with one, concatenated). Fails only when no line holds a resource.
  Result<Document> ParseNdjson(std::string_view text, std::string_view source_name);

  // Bytes a buffer given to ParseNdjson(buffer, ...) must hold after its
  // text: simdjson reads ahead. Their value does not matter, but they must be
  // set.
  static constexpr size_t kBufferPadding = 64;

  // As ParseNdjson above, for text the caller has already put in `buffer`:
  // `size` bytes followed by kBufferPadding set bytes. The Document takes the
  // buffer and keeps it, so the text is not copied.
  Result<Document> ParseNdjson(std::unique_ptr<char[]> buffer, size_t size, std::string_view source_name);

  // Reads `path` ("-" for stdin) and parses it as a resource, or as NDJSON
  // when the content is not a single JSON value but one per line.
  Result<Document> ParseFile(const std::string& path);

  // As ParseFile, for content already in memory.
  Result<Document> ParseAuto(std::string_view text, std::string_view source_name);

  // True when ParseAuto would read `text` as NDJSON: two or more non-blank
  // lines, line 1 a whole JSON object; or line 2 a whole object, or both
  // beginning with '{' and ending with '}', and the text not one valid JSON
  // document (a resource spread over lines, such as a Bundle whose line 1
  // opens the entry array, is one). ParseFile also reads any file named
  // *.ndjson as NDJSON.
  bool IsNdjson(std::string_view text);

 private:
  enum class Format { kResource, kNdjson, kAuto };
  struct Impl;

  // Parses `size` bytes of `buffer` (followed by simdjson's padding); the
  // Document takes the buffer and keeps it.
  Result<Document> ParseBuffer(std::unique_ptr<char[]> buffer, size_t size, std::string_view source_name,
                               Format format);
  bool LooksLikeNdjson(const char* data, size_t size);

  std::unique_ptr<Impl> impl_;
  ParseOptions options_;
};

// Reads a whole file ("-" for stdin) into memory. Fails with a clear message
// for a missing file, a directory, or an unreadable one.
Result<std::string> ReadFileToString(const std::string& path, size_t max_bytes = size_t{1} << 30);

// An NDJSON line's content: without leading or trailing spaces, tabs and
// '\r', nor UTF-8 byte-order marks before it (files that each began with
// one, concatenated; any number, among the spaces). Empty for a line that
// holds nothing else: a blank line. The one rule the parser, the screen's
// line reader and `regenpath fhirpath` read lines by.
std::string_view NdjsonLineContent(std::string_view line);

}  // namespace regenpath::fhir

#endif  // REGENPATH_FHIR_PARSER_H_
