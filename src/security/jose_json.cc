#include "security/jose_json.h"

#include <cmath>
#include <set>

#include "simdjson.h"

namespace regenpath::security {

namespace {

namespace dom = simdjson::dom;

// 9999-12-31T23:59:59Z; later instants cannot be a DateTime anyway.
constexpr double kMaxNumericDateSeconds = 253402300799.0;

// Parses `json` as one JSON object whose member names are unique. The
// returned object points into `parser`.
Result<dom::object> ParseObject(dom::parser& parser, std::string_view json, std::string_view what) {
  dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    return Fail(InvalidInput(std::string(what) + " is not valid JSON"));
  }
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Fail(InvalidInput(std::string(what) + " is not a JSON object"));
  }
  return object;
}

Status CheckUniqueMembers(dom::object object, std::string_view what) {
  std::set<std::string_view> seen;
  for (dom::key_value_pair member : object) {
    if (!seen.insert(member.key).second) {
      return InvalidInput(std::string(what) + " has a duplicate member name");
    }
  }
  return Status::Ok();
}

Status WrongType(std::string_view what, std::string_view name, std::string_view expected) {
  return InvalidInput(std::string(what) + " member \"" + std::string(name) + "\" is not " +
                      std::string(expected));
}

Status ReadString(dom::element value, std::string_view what, std::string_view name,
                  std::optional<std::string>& out) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return WrongType(what, name, "a string");
  out = std::string(text);
  return Status::Ok();
}

Status ReadStringArray(dom::element value, std::string_view what, std::string_view name,
                       std::optional<std::vector<std::string>>& out) {
  dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return WrongType(what, name, "an array of strings");
  std::vector<std::string> items;
  for (dom::element item : array) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS) return WrongType(what, name, "an array of strings");
    items.emplace_back(text);
  }
  out = std::move(items);
  return Status::Ok();
}

// RFC 7519 section 2: NumericDate is a JSON number of seconds since the
// epoch, non-integer values allowed.
Status ReadNumericDate(dom::element value, std::string_view name, std::optional<int64_t>& out_ms) {
  constexpr std::string_view kWhat = "token claims";
  int64_t integer = 0;
  uint64_t unsigned_integer = 0;
  double real = 0;
  if (value.get_int64().get(integer) == simdjson::SUCCESS) {
    if (integer < 0 || integer > static_cast<int64_t>(kMaxNumericDateSeconds)) {
      return WrongType(kWhat, name, "a date between 1970 and 9999");
    }
    out_ms = integer * 1000;
    return Status::Ok();
  }
  if (value.get_uint64().get(unsigned_integer) == simdjson::SUCCESS) {
    return WrongType(kWhat, name, "a date between 1970 and 9999");
  }
  if (value.get_double().get(real) == simdjson::SUCCESS) {
    if (!std::isfinite(real) || real < 0 || real > kMaxNumericDateSeconds) {
      return WrongType(kWhat, name, "a date between 1970 and 9999");
    }
    out_ms = static_cast<int64_t>(std::floor(real * 1000.0));
    return Status::Ok();
  }
  return WrongType(kWhat, name, "a number");
}

Result<JwkMembers> ReadJwk(dom::element element, const std::string& what) {
  dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) {
    return Fail(InvalidInput(what + " is not a JSON object"));
  }
  RP_RETURN_IF_ERROR(CheckUniqueMembers(object, what));
  JwkMembers jwk;
  for (dom::key_value_pair member : object) {
    std::string_view name = member.key;
    Status status;
    if (name == "kty") {
      status = ReadString(member.value, what, name, jwk.kty);
    } else if (name == "kid") {
      status = ReadString(member.value, what, name, jwk.kid);
    } else if (name == "alg") {
      status = ReadString(member.value, what, name, jwk.alg);
    } else if (name == "use") {
      status = ReadString(member.value, what, name, jwk.use);
    } else if (name == "key_ops") {
      status = ReadStringArray(member.value, what, name, jwk.key_ops);
    } else if (name == "crv") {
      status = ReadString(member.value, what, name, jwk.crv);
    } else if (name == "x") {
      status = ReadString(member.value, what, name, jwk.x);
    } else if (name == "y") {
      status = ReadString(member.value, what, name, jwk.y);
    } else if (name == "n") {
      status = ReadString(member.value, what, name, jwk.n);
    } else if (name == "e") {
      status = ReadString(member.value, what, name, jwk.e);
    } else if (name == "d" || name == "p" || name == "q" || name == "dp" || name == "dq" || name == "qi" ||
               name == "oth") {
      jwk.has_private_members = true;
    }
    RP_RETURN_IF_ERROR(status);
  }
  return jwk;
}

}  // namespace

Result<JoseHeader> ParseJoseHeader(std::string_view json) {
  constexpr std::string_view kWhat = "token header";
  dom::parser parser;
  RP_ASSIGN_OR_RETURN(dom::object object, ParseObject(parser, json, kWhat));
  RP_RETURN_IF_ERROR(CheckUniqueMembers(object, kWhat));
  JoseHeader header;
  for (dom::key_value_pair member : object) {
    std::string_view name = member.key;
    Status status;
    if (name == "alg") {
      status = ReadString(member.value, kWhat, name, header.alg);
    } else if (name == "kid") {
      status = ReadString(member.value, kWhat, name, header.kid);
    } else if (name == "typ") {
      status = ReadString(member.value, kWhat, name, header.typ);
    } else if (name == "jku") {
      status = ReadString(member.value, kWhat, name, header.jku);
    } else if (name == "cty") {
      status = ReadString(member.value, kWhat, name, header.cty);
    } else if (name == "crit") {
      header.has_crit = true;
    }
    RP_RETURN_IF_ERROR(status);
  }
  return header;
}

Result<JwtClaimSet> ParseJwtClaimSet(std::string_view json) {
  constexpr std::string_view kWhat = "token claims";
  dom::parser parser;
  RP_ASSIGN_OR_RETURN(dom::object object, ParseObject(parser, json, kWhat));
  RP_RETURN_IF_ERROR(CheckUniqueMembers(object, kWhat));
  JwtClaimSet claims;
  for (dom::key_value_pair member : object) {
    std::string_view name = member.key;
    Status status;
    if (name == "iss") {
      status = ReadString(member.value, kWhat, name, claims.iss);
    } else if (name == "sub") {
      status = ReadString(member.value, kWhat, name, claims.sub);
    } else if (name == "jti") {
      status = ReadString(member.value, kWhat, name, claims.jti);
    } else if (name == "tenant") {
      status = ReadString(member.value, kWhat, name, claims.tenant);
    } else if (name == "aud") {
      if (member.value.is_string()) {
        std::optional<std::string> single;
        status = ReadString(member.value, kWhat, name, single);
        if (status.ok()) claims.aud = std::vector<std::string>{std::move(*single)};
      } else {
        status = ReadStringArray(member.value, kWhat, name, claims.aud);
        if (!status.ok()) status = WrongType(kWhat, name, "a string or an array of strings");
      }
    } else if (name == "exp") {
      status = ReadNumericDate(member.value, name, claims.exp_ms);
    } else if (name == "iat") {
      status = ReadNumericDate(member.value, name, claims.iat_ms);
    } else if (name == "nbf") {
      status = ReadNumericDate(member.value, name, claims.nbf_ms);
    }
    RP_RETURN_IF_ERROR(status);
  }
  return claims;
}

Result<std::vector<JwkMembers>> ParseJwkSetMembers(std::string_view json) {
  constexpr std::string_view kWhat = "JWK Set";
  dom::parser parser;
  RP_ASSIGN_OR_RETURN(dom::object object, ParseObject(parser, json, kWhat));
  RP_RETURN_IF_ERROR(CheckUniqueMembers(object, kWhat));
  dom::element keys_element;
  if (object.at_key("keys").get(keys_element) != simdjson::SUCCESS) {
    return Fail(InvalidInput("JWK Set has no \"keys\" member"));
  }
  dom::array keys;
  if (keys_element.get_array().get(keys) != simdjson::SUCCESS) {
    return Fail(WrongType(kWhat, "keys", "an array"));
  }
  std::vector<JwkMembers> result;
  size_t index = 0;
  for (dom::element key : keys) {
    RP_ASSIGN_OR_RETURN(JwkMembers jwk, ReadJwk(key, "JWK Set keys[" + std::to_string(index) + "]"));
    result.push_back(std::move(jwk));
    ++index;
  }
  return result;
}

}  // namespace regenpath::security
