// The code systems and extensions the registry reads in FHIR input
// (docs/registry.md, "Import"). One place so the importer, the exporter, the
// demo cohort and the docs agree.
#ifndef REGENPATH_REGISTRY_FHIR_CODES_H_
#define REGENPATH_REGISTRY_FHIR_CODES_H_

#include <string_view>

namespace regenpath::registry::fhir_codes {

// Procedure.code: the knowledge base's option id (therapy x target).
inline constexpr std::string_view kOptionSystem = "http://regenpath.org/fhir/CodeSystem/option";
// Procedure.category: index (default) or surgery.
inline constexpr std::string_view kProcedureKindSystem = "http://regenpath.org/fhir/CodeSystem/registry-procedure-kind";
// Procedure.reasonCode: the knowledge base's condition id.
inline constexpr std::string_view kConditionSystem = "http://regenpath.org/fhir/CodeSystem/condition";
// AdverseEvent.event: registry_records.h AdverseEventCategoryCode().
inline constexpr std::string_view kAdverseEventSystem = "http://regenpath.org/fhir/CodeSystem/adverse-event-category";
inline constexpr std::string_view kSeveritySystem = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness";
// Extensions on Procedure (prefix + name).
inline constexpr std::string_view kExtensionPrefix = "http://regenpath.org/fhir/StructureDefinition/";
inline constexpr std::string_view kImageGuidance = "image-guidance";            // valueCode
inline constexpr std::string_view kPrpLeukocytes = "prp-leukocytes";            // valueCode rich | poor
inline constexpr std::string_view kInjectateVolume = "injectate-volume";        // valueQuantity mL
inline constexpr std::string_view kPlateletConcentration = "platelet-concentration";  // valueQuantity 10*9/L
inline constexpr std::string_view kNucleatedCells = "bmc-nucleated-cells";      // valueDecimal
inline constexpr std::string_view kDextrosePercent = "dextrose-percent";        // valueDecimal
inline constexpr std::string_view kSeriesNumber = "series-number";              // valuePositiveInt
inline constexpr std::string_view kLaterality = "laterality";                   // valueCode left | right | bilateral, or a spinal level
// Complex extension: the assessment that preceded the procedure, with
// sub-extensions stage, optionStatus, kbVersion, feedback, overrideReason
// (valueString / valueCode).
inline constexpr std::string_view kAssessment = "registry-assessment";
// Meta tag marking synthetic (demo) data.
inline constexpr std::string_view kSyntheticTagSystem = "http://regenpath.org/fhir/CodeSystem/registry-tag";

}  // namespace regenpath::registry::fhir_codes

#endif  // REGENPATH_REGISTRY_FHIR_CODES_H_
