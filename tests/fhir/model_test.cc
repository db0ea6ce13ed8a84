#include "fhir/model.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace regenpath::fhir {
namespace {

using ::testing::IsSupersetOf;

const Model& R4() { return Model::R4(); }

const TypeInfo& Type(std::string_view name) {
  const TypeInfo* type = R4().FindType(name);
  EXPECT_NE(type, nullptr) << name;
  static const TypeInfo kMissing{};
  return type != nullptr ? *type : kMissing;
}

std::vector<std::string> ElementNames(const TypeInfo& type) {
  std::vector<std::string> names;
  for (const ElementInfo& element : type.elements) names.emplace_back(element.name);
  return names;
}

std::vector<std::string> TypeNames(const ElementInfo& element) {
  std::vector<std::string> names;
  for (const TypeInfo* type : element.types) names.emplace_back(type->name);
  return names;
}

// Checks that `json_name` on `parent` resolves to element `element_name` with
// value type `type_name`.
void ExpectJson(std::string_view parent, std::string_view json_name,
                std::string_view element_name, std::string_view type_name) {
  SCOPED_TRACE(std::string(parent) + " / " + std::string(json_name));
  const JsonPropertyMatch match = Model::ResolveJsonProperty(Type(parent), json_name);
  ASSERT_NE(match.element, nullptr);
  ASSERT_NE(match.type, nullptr);
  EXPECT_EQ(match.element->name, element_name);
  EXPECT_EQ(match.type->name, type_name);
  EXPECT_EQ(match.element, Model::FindElement(Type(parent), element_name));
}

TEST(ModelTest, R4IsASingleton) { EXPECT_EQ(&Model::R4(), &Model::R4()); }

TEST(ModelTest, FindsTypesOfEveryKind) {
  EXPECT_EQ(Type("Patient").kind, TypeKind::kResource);
  EXPECT_EQ(Type("HumanName").kind, TypeKind::kComplex);
  EXPECT_EQ(Type("string").kind, TypeKind::kPrimitive);
  EXPECT_EQ(Type("xhtml").kind, TypeKind::kPrimitive);
  EXPECT_EQ(Type("Patient.contact").kind, TypeKind::kBackbone);
  EXPECT_EQ(Type("Element").kind, TypeKind::kComplex);
  EXPECT_EQ(Type("BackboneElement").kind, TypeKind::kComplex);
  EXPECT_EQ(Type("Patient").name, "Patient");
}

TEST(ModelTest, UnknownNamesReturnNull) {
  EXPECT_EQ(R4().FindType(""), nullptr);
  EXPECT_EQ(R4().FindType("patient"), nullptr);  // case-sensitive
  EXPECT_EQ(R4().FindType("Patient "), nullptr);
  EXPECT_EQ(R4().FindType("NoSuchType"), nullptr);
  EXPECT_EQ(R4().FindType("Patient.nope"), nullptr);
  EXPECT_EQ(R4().FindType("MetadataResource"), nullptr);  // a logical model
  EXPECT_EQ(R4().FindResourceType("HumanName"), nullptr);
  EXPECT_EQ(R4().FindResourceType("string"), nullptr);
  EXPECT_EQ(R4().FindResourceType("Patient.contact"), nullptr);
  EXPECT_EQ(R4().FindResourceType("Nope"), nullptr);
  EXPECT_EQ(Model::FindElement(Type("Patient"), "nope"), nullptr);
  EXPECT_EQ(Model::FindElement(Type("Patient"), ""), nullptr);
  EXPECT_EQ(Model::ResolveJsonProperty(Type("Patient"), "nope").element, nullptr);
  EXPECT_EQ(Model::ResolveJsonProperty(Type("Patient"), "").element, nullptr);
  EXPECT_EQ(Model::ResolveJsonProperty(Type("Patient"), "resourceType").element, nullptr);
}

TEST(ModelTest, EveryTypeIsFoundByItsNameAndElementsAreSorted) {
  std::set<std::string_view> names;
  for (const TypeInfo* type : R4().types()) {
    ASSERT_NE(type, nullptr);
    EXPECT_EQ(R4().FindType(type->name), type) << type->name;
    EXPECT_TRUE(names.insert(type->name).second) << "duplicate " << type->name;
    EXPECT_TRUE(std::is_sorted(
        type->elements.begin(), type->elements.end(),
        [](const ElementInfo& a, const ElementInfo& b) { return a.name < b.name; }))
        << type->name;
    for (const ElementInfo& element : type->elements) {
      EXPECT_EQ(Model::FindElement(*type, element.name), &element) << type->name;
      EXPECT_FALSE(element.types.empty()) << type->name << "." << element.name;
      EXPECT_TRUE(element.is_choice || element.types.size() == 1)
          << type->name << "." << element.name;
    }
  }
  EXPECT_GT(R4().types().size(), 600u);
}

TEST(ModelTest, CountsResourceTypes) {
  // R4 (4.0.1) defines 146 concrete resources plus the abstract Resource and
  // DomainResource: the 148 codes of the ResourceType value set.
  int resources = 0;
  int concrete = 0;
  int primitives = 0;
  for (const TypeInfo* type : R4().types()) {
    if (type->kind == TypeKind::kPrimitive) ++primitives;
    if (type->kind != TypeKind::kResource) continue;
    ++resources;
    if (!type->is_abstract) ++concrete;
    EXPECT_EQ(R4().FindResourceType(type->name), type);
  }
  EXPECT_EQ(resources, 148);
  EXPECT_EQ(concrete, 146);
  EXPECT_EQ(primitives, 20);
  EXPECT_TRUE(Type("Resource").is_abstract);
  EXPECT_TRUE(Type("DomainResource").is_abstract);
  EXPECT_FALSE(Type("Patient").is_abstract);
  EXPECT_NE(R4().FindResourceType("Resource"), nullptr);
  EXPECT_NE(R4().FindResourceType("Bundle"), nullptr);
  EXPECT_NE(R4().FindResourceType("VisionPrescription"), nullptr);
}

TEST(ModelTest, PatientHasOwnAndInheritedElements) {
  const TypeInfo& patient = Type("Patient");
  EXPECT_THAT(ElementNames(patient),
              IsSupersetOf({"id", "meta", "implicitRules", "language", "text", "contained",
                            "extension", "modifierExtension", "identifier", "active", "name",
                            "telecom", "gender", "birthDate", "deceased", "address",
                            "maritalStatus", "multipleBirth", "photo", "contact",
                            "communication", "generalPractitioner", "managingOrganization",
                            "link"}));
  EXPECT_EQ(patient.elements.size(), 24u);

  const ElementInfo* name = Model::FindElement(patient, "name");
  ASSERT_NE(name, nullptr);
  EXPECT_TRUE(name->is_array);
  EXPECT_FALSE(name->is_choice);
  EXPECT_THAT(TypeNames(*name), ::testing::ElementsAre("HumanName"));

  const ElementInfo* birth_date = Model::FindElement(patient, "birthDate");
  ASSERT_NE(birth_date, nullptr);
  EXPECT_FALSE(birth_date->is_array);
  EXPECT_THAT(TypeNames(*birth_date), ::testing::ElementsAre("date"));

  const ElementInfo* contained = Model::FindElement(patient, "contained");
  ASSERT_NE(contained, nullptr);
  EXPECT_TRUE(contained->is_array);
  EXPECT_THAT(TypeNames(*contained), ::testing::ElementsAre("Resource"));

  const ElementInfo* deceased = Model::FindElement(patient, "deceased");
  ASSERT_NE(deceased, nullptr);
  EXPECT_TRUE(deceased->is_choice);
  EXPECT_THAT(TypeNames(*deceased), ::testing::ElementsAre("boolean", "dateTime"));
  EXPECT_EQ(Model::FindElement(patient, "deceasedBoolean"), nullptr);
  EXPECT_EQ(Model::FindElement(patient, "deceased[x]"), nullptr);

  // Profiled references are plain Reference.
  const ElementInfo* practitioner = Model::FindElement(patient, "generalPractitioner");
  ASSERT_NE(practitioner, nullptr);
  EXPECT_THAT(TypeNames(*practitioner), ::testing::ElementsAre("Reference"));

  // A resource's id has the FHIR type id (the generator corrects the 4.0.1
  // snapshot, which says System.String; see tools/gen_fhir_model.py).
  const ElementInfo* id = Model::FindElement(patient, "id");
  ASSERT_NE(id, nullptr);
  EXPECT_THAT(TypeNames(*id), ::testing::ElementsAre("id"));
}

TEST(ModelTest, ComplexAndPrimitiveTypesHaveElementElements) {
  EXPECT_THAT(ElementNames(Type("HumanName")),
              ::testing::ElementsAre("extension", "family", "given", "id", "period", "prefix",
                                     "suffix", "text", "use"));
  // A primitive's "value" is its System value, not an element.
  EXPECT_THAT(ElementNames(Type("string")), ::testing::ElementsAre("extension", "id"));
  EXPECT_THAT(ElementNames(Type("dateTime")), ::testing::ElementsAre("extension", "id"));
  EXPECT_EQ(Model::FindElement(Type("boolean"), "value"), nullptr);
  // Extension.url is a System string typed uri.
  const ElementInfo* url = Model::FindElement(Type("Extension"), "url");
  ASSERT_NE(url, nullptr);
  EXPECT_THAT(TypeNames(*url), ::testing::ElementsAre("uri"));
  // Narrative.div is xhtml.
  const ElementInfo* div = Model::FindElement(Type("Narrative"), "div");
  ASSERT_NE(div, nullptr);
  EXPECT_THAT(TypeNames(*div), ::testing::ElementsAre("xhtml"));
  // SimpleQuantity prohibits comparator; Quantity has it.
  EXPECT_NE(Model::FindElement(Type("Quantity"), "comparator"), nullptr);
  EXPECT_EQ(Model::FindElement(Type("SimpleQuantity"), "comparator"), nullptr);
  EXPECT_NE(Model::FindElement(Type("SimpleQuantity"), "unit"), nullptr);
  EXPECT_NE(Model::FindElement(Type("Age"), "comparator"), nullptr);
}

TEST(ModelTest, ResolvesPlainJsonProperties) {
  ExpectJson("HumanName", "given", "given", "string");
  ExpectJson("Patient", "contact", "contact", "Patient.contact");
  ExpectJson("Patient", "birthDate", "birthDate", "date");
  ExpectJson("Patient", "meta", "meta", "Meta");
  ExpectJson("Patient", "id", "id", "id");
  ExpectJson("HumanName", "id", "id", "string");  // Element.id stays a string
  ExpectJson("Observation", "code", "code", "CodeableConcept");
  ExpectJson("Bundle", "entry", "entry", "Bundle.entry");
  ExpectJson("Bundle.entry", "resource", "resource", "Resource");
}

TEST(ModelTest, ResolvesChoiceJsonProperties) {
  ExpectJson("Observation", "valueQuantity", "value", "Quantity");
  ExpectJson("Observation", "valueString", "value", "string");
  ExpectJson("Observation", "valueCodeableConcept", "value", "CodeableConcept");
  ExpectJson("Observation", "valueDateTime", "value", "dateTime");
  ExpectJson("Observation", "valueBoolean", "value", "boolean");
  ExpectJson("Observation", "effectiveDateTime", "effective", "dateTime");
  ExpectJson("Observation", "effectivePeriod", "effective", "Period");
  ExpectJson("Observation", "effectiveInstant", "effective", "instant");
  ExpectJson("Observation.component", "valueQuantity", "value", "Quantity");
  ExpectJson("Patient", "deceasedBoolean", "deceased", "boolean");
  ExpectJson("Patient", "multipleBirthInteger", "multipleBirth", "integer");
  ExpectJson("Extension", "valueCanonical", "value", "canonical");
  ExpectJson("Extension", "valueBase64Binary", "value", "base64Binary");
  ExpectJson("Condition", "onsetAge", "onset", "Age");

  const ElementInfo* value = Model::FindElement(Type("Observation"), "value");
  ASSERT_NE(value, nullptr);
  EXPECT_TRUE(value->is_choice);
  EXPECT_FALSE(value->is_array);
  EXPECT_THAT(TypeNames(*value),
              ::testing::UnorderedElementsAre("Quantity", "CodeableConcept", "string", "boolean",
                                              "integer", "Range", "Ratio", "SampledData", "time",
                                              "dateTime", "Period"));

  // A bare choice name, a wrong case, and a type the choice does not allow.
  EXPECT_EQ(Model::ResolveJsonProperty(Type("Observation"), "value").element, nullptr);
  EXPECT_EQ(Model::ResolveJsonProperty(Type("Observation"), "effective").element, nullptr);
  EXPECT_EQ(Model::ResolveJsonProperty(Type("Observation"), "valuequantity").element, nullptr);
  EXPECT_EQ(Model::ResolveJsonProperty(Type("Observation"), "valueAge").element, nullptr);
  EXPECT_EQ(Model::ResolveJsonProperty(Type("Observation"), "valueHumanName").element, nullptr);
  EXPECT_EQ(Model::ResolveJsonProperty(Type("Observation"), "valueQuantityX").element, nullptr);
  EXPECT_EQ(Model::ResolveJsonProperty(Type("Observation"), "Quantity").element, nullptr);
}

TEST(ModelTest, ResolvesChoiceJsonPropertiesOnTypesOutsideTheModel) {
  // A caller-built type takes the slow path; it must agree with the tables.
  const TypeInfo& observation = Type("Observation");
  const TypeInfo copy = observation;
  for (std::string_view name : {"valueQuantity", "valueDateTime", "effectivePeriod", "status"}) {
    const JsonPropertyMatch fast = Model::ResolveJsonProperty(observation, name);
    const JsonPropertyMatch slow = Model::ResolveJsonProperty(copy, name);
    EXPECT_EQ(fast.element, slow.element) << name;
    EXPECT_EQ(fast.type, slow.type) << name;
    EXPECT_NE(slow.element, nullptr) << name;
  }
  EXPECT_EQ(Model::ResolveJsonProperty(copy, "value").element, nullptr);
  EXPECT_EQ(Model::ResolveJsonProperty(copy, "valueAge").element, nullptr);
  EXPECT_EQ(Model::ResolveJsonProperty(copy, "V").element, nullptr);
}

TEST(ModelTest, EveryChoiceTypeResolvesFromItsJsonName) {
  for (const TypeInfo* type : R4().types()) {
    for (const ElementInfo& element : type->elements) {
      if (!element.is_choice) continue;
      for (const TypeInfo* choice : element.types) {
        std::string json_name(element.name);
        json_name += static_cast<char>(std::toupper(static_cast<unsigned char>(choice->name[0])));
        json_name += choice->name.substr(1);
        const JsonPropertyMatch match = Model::ResolveJsonProperty(*type, json_name);
        EXPECT_EQ(match.element, &element) << type->name << " " << json_name;
        EXPECT_EQ(match.type, choice) << type->name << " " << json_name;
      }
    }
  }
}

TEST(ModelTest, BackboneTypes) {
  const TypeInfo& contact = Type("Patient.contact");
  ASSERT_NE(contact.base, nullptr);
  EXPECT_EQ(contact.base->name, "BackboneElement");
  EXPECT_THAT(ElementNames(contact),
              ::testing::ElementsAre("address", "extension", "gender", "id", "modifierExtension",
                                     "name", "organization", "period", "relationship",
                                     "telecom"));

  const ElementInfo* entry = Model::FindElement(Type("Bundle"), "entry");
  ASSERT_NE(entry, nullptr);
  EXPECT_TRUE(entry->is_array);
  EXPECT_THAT(TypeNames(*entry), ::testing::ElementsAre("Bundle.entry"));

  const ElementInfo* request = Model::FindElement(Type("Bundle.entry"), "request");
  ASSERT_NE(request, nullptr);
  EXPECT_FALSE(request->is_array);
  EXPECT_THAT(TypeNames(*request), ::testing::ElementsAre("Bundle.entry.request"));
  EXPECT_THAT(ElementNames(Type("Bundle.entry.request")),
              IsSupersetOf({"method", "url", "ifNoneMatch", "ifModifiedSince", "ifMatch",
                            "ifNoneExist"}));
  EXPECT_EQ(Type("Bundle.entry.request").kind, TypeKind::kBackbone);

  // A backbone whose definition has type Element derives from Element.
  const TypeInfo& repeat = Type("Timing.repeat");
  ASSERT_NE(repeat.base, nullptr);
  EXPECT_EQ(repeat.base->name, "Element");
  EXPECT_EQ(Model::FindElement(repeat, "modifierExtension"), nullptr);
  ExpectJson("Timing.repeat", "boundsDuration", "bounds", "Duration");
}

TEST(ModelTest, ContentReferencesPointToTheReferencedBackbone) {
  const TypeInfo& item = Type("Questionnaire.item");
  const ElementInfo* nested = Model::FindElement(item, "item");
  ASSERT_NE(nested, nullptr);
  EXPECT_TRUE(nested->is_array);
  ASSERT_EQ(nested->types.size(), 1u);
  EXPECT_EQ(nested->types[0], &item);
  EXPECT_EQ(R4().FindType("Questionnaire.item.item"), nullptr);
  ExpectJson("Questionnaire.item", "item", "item", "Questionnaire.item");

  const ElementInfo* link = Model::FindElement(Type("Bundle.entry"), "link");
  ASSERT_NE(link, nullptr);
  EXPECT_THAT(TypeNames(*link), ::testing::ElementsAre("Bundle.link"));

  // A contentReference keeps its own cardinality.
  const ElementInfo* operation = Model::FindElement(Type("TestScript.test.action"), "operation");
  ASSERT_NE(operation, nullptr);
  EXPECT_FALSE(operation->is_array);
  EXPECT_THAT(TypeNames(*operation), ::testing::ElementsAre("TestScript.setup.action.operation"));
}

TEST(ModelTest, SubtypeRelations) {
  EXPECT_TRUE(Model::IsSubtypeOf(Type("code"), Type("string")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("code"), Type("Element")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("string"), Type("string")));
  EXPECT_FALSE(Model::IsSubtypeOf(Type("string"), Type("code")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("canonical"), Type("uri")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("positiveInt"), Type("integer")));
  EXPECT_FALSE(Model::IsSubtypeOf(Type("integer"), Type("decimal")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("Age"), Type("Quantity")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("Duration"), Type("Quantity")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("SimpleQuantity"), Type("Quantity")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("MoneyQuantity"), Type("Quantity")));
  EXPECT_FALSE(Model::IsSubtypeOf(Type("Quantity"), Type("Age")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("Patient"), Type("DomainResource")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("Patient"), Type("Resource")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("DomainResource"), Type("Resource")));
  EXPECT_FALSE(Model::IsSubtypeOf(Type("Bundle"), Type("DomainResource")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("Bundle"), Type("Resource")));
  EXPECT_FALSE(Model::IsSubtypeOf(Type("Patient"), Type("Element")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("Patient.contact"), Type("Element")));
  EXPECT_TRUE(Model::IsSubtypeOf(Type("Dosage"), Type("BackboneElement")));

  EXPECT_EQ(Type("Patient").base, &Type("DomainResource"));
  EXPECT_EQ(Type("DomainResource").base, &Type("Resource"));
  EXPECT_EQ(Type("Resource").base, nullptr);
  EXPECT_EQ(Type("Element").base, nullptr);
  EXPECT_EQ(Type("string").base, &Type("Element"));
  EXPECT_EQ(Type("xhtml").base, &Type("Element"));
  EXPECT_EQ(Type("id").base, &Type("string"));
  EXPECT_EQ(Type("markdown").base, &Type("string"));
  EXPECT_EQ(Type("url").base, &Type("uri"));
  EXPECT_EQ(Type("oid").base, &Type("uri"));
  EXPECT_EQ(Type("uuid").base, &Type("uri"));
  EXPECT_EQ(Type("unsignedInt").base, &Type("integer"));
  EXPECT_EQ(Type("BackboneElement").base, &Type("Element"));
  EXPECT_EQ(Type("Quantity").base, &Type("Element"));
}

TEST(ModelTest, SystemTypes) {
  struct Case {
    std::string_view type;
    SystemType system;
  };
  for (const Case& c : {
           Case{"boolean", SystemType::kBoolean},    Case{"integer", SystemType::kInteger},
           Case{"positiveInt", SystemType::kInteger}, Case{"unsignedInt", SystemType::kInteger},
           Case{"decimal", SystemType::kDecimal},    Case{"date", SystemType::kDate},
           Case{"dateTime", SystemType::kDateTime},  Case{"instant", SystemType::kDateTime},
           Case{"time", SystemType::kTime},          Case{"string", SystemType::kString},
           Case{"code", SystemType::kString},        Case{"id", SystemType::kString},
           Case{"uri", SystemType::kString},         Case{"url", SystemType::kString},
           Case{"canonical", SystemType::kString},   Case{"oid", SystemType::kString},
           Case{"uuid", SystemType::kString},        Case{"markdown", SystemType::kString},
           Case{"base64Binary", SystemType::kString}, Case{"xhtml", SystemType::kString},
           Case{"Quantity", SystemType::kNone},      Case{"Patient", SystemType::kNone},
           Case{"Patient.contact", SystemType::kNone}, Case{"Element", SystemType::kNone},
       }) {
    EXPECT_EQ(Type(c.type).system_type, c.system) << c.type;
  }
  for (const TypeInfo* type : R4().types()) {
    EXPECT_EQ(type->kind == TypeKind::kPrimitive, type->system_type != SystemType::kNone)
        << type->name;
  }
}

}  // namespace
}  // namespace regenpath::fhir
