// Reading and checking JS arguments on the JS thread (see js-args.h).
//
// Owns: the error-throwing helpers and the typed-array conversions in both directions.
#include "js-args.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "addon-data.h"

namespace servellm {

void ThrowTypeError(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

void ThrowRangeError(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, message);
}

void ThrowError(Napi::Env env, const std::string& message) {
  throw Napi::Error::New(env, message);
}

std::string Describe(Napi::Value value) {
  switch (value.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_boolean:
      return value.As<Napi::Boolean>().Value() ? "true" : "false";
    case napi_number: {
      std::ostringstream out;
      out.precision(17);
      out << value.As<Napi::Number>().DoubleValue();
      return out.str();
    }
    case napi_string: {
      std::string text = value.As<Napi::String>().Utf8Value();
      if (text.size() > 40) text = text.substr(0, 40) + "...";
      return "'" + text + "'";
    }
    case napi_bigint:
      return "a bigint";
    case napi_function:
      return "a function";
    case napi_object: {
      if (value.IsTypedArray()) {
        static const char* const kNames[] = {
            "Int8Array",    "Uint8Array",   "Uint8ClampedArray", "Int16Array",
            "Uint16Array",  "Int32Array",   "Uint32Array",       "Float32Array",
            "Float64Array", "BigInt64Array", "BigUint64Array"};
        const auto array = value.As<Napi::TypedArray>();
        const int type = static_cast<int>(array.TypedArrayType());
        const char* name = type >= 0 && type < 11 ? kNames[type] : "TypedArray";
        return std::string(name) + "(" + std::to_string(array.ElementLength()) + ")";
      }
      if (value.IsArray()) return "an Array";
      return "an object";
    }
    default:
      return "a value of another type";
  }
}

Napi::Object RequireObject(Napi::Env env, Napi::Value value, const std::string& name) {
  if (!value.IsObject() || value.IsArray() || value.IsFunction()) {
    ThrowTypeError(env, name + " must be an object, got " + Describe(value));
  }
  return value.As<Napi::Object>();
}

std::string RequireString(Napi::Env env, Napi::Value value, const std::string& name) {
  if (!value.IsString()) ThrowTypeError(env, name + " must be a string, got " + Describe(value));
  return value.As<Napi::String>().Utf8Value();
}

bool RequireBool(Napi::Env env, Napi::Value value, const std::string& name) {
  if (!value.IsBoolean()) ThrowTypeError(env, name + " must be a boolean, got " + Describe(value));
  return value.As<Napi::Boolean>().Value();
}

int64_t RequireInteger(Napi::Env env, Napi::Value value, const std::string& name, int64_t min,
                       int64_t max) {
  if (!value.IsNumber()) ThrowTypeError(env, name + " must be a number, got " + Describe(value));
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::floor(number) != number) {
    ThrowRangeError(env, name + " must be an integer, got " + Describe(value));
  }
  if (number < static_cast<double>(min) || number > static_cast<double>(max)) {
    ThrowRangeError(env, name + " must be in [" + std::to_string(min) + ", " +
                             std::to_string(max) + "], got " + Describe(value));
  }
  return static_cast<int64_t>(number);
}

void RequireLength(Napi::Env env, size_t actual, size_t expected, const ArgName& name,
                   const char* why) {
  if (actual != expected) {
    ThrowRangeError(env, name.Str() + " must have " + std::to_string(expected) + " elements (" +
                             why + "), got " + std::to_string(actual));
  }
}

Napi::Value GetProperty(Napi::Env env, Napi::Object object, const char* key) {
  return object.Get(GetAddonData(env).Key(env, key));
}

namespace {

template <typename ArrayType, typename T>
ArrayType MakeTypedArray(Napi::Env env, const std::vector<T>& values) {
  ArrayType array = ArrayType::New(env, values.size());
  if (!values.empty()) std::memcpy(array.Data(), values.data(), values.size() * sizeof(T));
  return array;
}

}  // namespace

Napi::Int32Array ToInt32Array(Napi::Env env, const std::vector<int32_t>& values) {
  return MakeTypedArray<Napi::Int32Array>(env, values);
}

Napi::Uint8Array ToUint8Array(Napi::Env env, const std::vector<uint8_t>& values) {
  return MakeTypedArray<Napi::Uint8Array>(env, values);
}

Napi::Uint32Array ToUint32Array(Napi::Env env, const std::vector<uint32_t>& values) {
  return MakeTypedArray<Napi::Uint32Array>(env, values);
}

}  // namespace servellm
