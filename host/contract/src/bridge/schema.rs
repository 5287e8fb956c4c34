//! JSON Schema of the JSON shape of a WIT type (see the bridge's table).

use serde_json::{Value, json};
use wasmtime::component::Type;

fn integer(min: i128, max: i128) -> Value {
    json!({ "type": "integer", "minimum": min, "maximum": max })
}

/// The JSON Schema (draft 2020-12 vocabulary) of values of type `ty`.
pub fn schema(ty: &Type) -> Value {
    match ty {
        Type::Bool => json!({ "type": "boolean" }),
        Type::S8 => integer(i8::MIN.into(), i8::MAX.into()),
        Type::U8 => integer(0, u8::MAX.into()),
        Type::S16 => integer(i16::MIN.into(), i16::MAX.into()),
        Type::U16 => integer(0, u16::MAX.into()),
        Type::S32 => integer(i32::MIN.into(), i32::MAX.into()),
        Type::U32 => integer(0, u32::MAX.into()),
        Type::S64 => integer(i64::MIN.into(), i64::MAX.into()),
        Type::U64 => integer(0, u64::MAX.into()),
        Type::Float32 | Type::Float64 => json!({ "type": "number" }),
        Type::Char => json!({ "type": "string", "minLength": 1, "maxLength": 1 }),
        Type::String => json!({ "type": "string" }),
        Type::List(list) => match list.ty() {
            Type::U8 => json!({ "type": "string", "contentEncoding": "base64" }),
            element => json!({ "type": "array", "items": schema(&element) }),
        },
        Type::Record(record) => {
            let mut properties = serde_json::Map::new();
            let mut required = Vec::new();
            for field in record.fields() {
                if !matches!(field.ty, Type::Option(_)) {
                    required.push(Value::String(field.name.to_string()));
                }
                properties.insert(field.name.to_string(), schema(&field.ty));
            }
            json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
        }
        Type::Tuple(tuple) => {
            let items: Vec<Value> = tuple.types().map(|t| schema(&t)).collect();
            json!({ "type": "array", "prefixItems": items, "minItems": items.len(), "maxItems": items.len() })
        }
        Type::Variant(variant) => {
            let cases: Vec<Value> = variant
                .cases()
                .map(|case| match case.ty {
                    None => json!({ "const": case.name }),
                    Some(ty) => json!({
                        "type": "object",
                        "properties": { case.name: schema(&ty) },
                        "required": [case.name],
                        "additionalProperties": false
                    }),
                })
                .collect();
            json!({ "oneOf": cases })
        }
        Type::Enum(en) => json!({ "type": "string", "enum": en.names().collect::<Vec<_>>() }),
        Type::Option(option) => json!({ "anyOf": [schema(&option.ty()), { "type": "null" }] }),
        Type::Result(result) => {
            let side = |name: &str, ty: Option<Type>| {
                json!({
                    "type": "object",
                    "properties": { name: ty.map(|t| schema(&t)).unwrap_or(json!({ "type": "null" })) },
                    "required": [name],
                    "additionalProperties": false
                })
            };
            json!({ "oneOf": [side("ok", result.ok()), side("err", result.err())] })
        }
        Type::Flags(flags) => json!({
            "type": "array",
            "items": { "type": "string", "enum": flags.names().collect::<Vec<_>>() },
            "uniqueItems": true
        }),
        // Blobs travel beside the JSON: an argument by parameter name, an
        // answer as its index among the answer's blobs and its size.
        Type::Borrow(_) => json!({
            "description": "a file passed by reference (a blob), handed over beside the JSON arguments, not in them"
        }),
        Type::Own(_) => json!({
            "type": "object",
            "description": "a file passed by reference (a blob): its index among the answer's blobs, and its size",
            "properties": {
                "blob": { "type": "integer", "minimum": 0 },
                "size": { "type": "integer", "minimum": 0 }
            },
            "required": ["blob", "size"],
            "additionalProperties": false
        }),
        other => json!({ "description": format!("{other:?} has no JSON form") }),
    }
}
