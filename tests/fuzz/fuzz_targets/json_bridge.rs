//! The JSON bridge against the component types of the bundled plugins and
//! test guests: arbitrary JSON arguments for any exported function either
//! fail with an error naming the place, or become values that convert back
//! to JSON which converts to the same values again (a round trip); the
//! same for values of each function's result type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay::bridge;

fuzz_target!(|data: &[u8]| {
    let functions = &*patchbay_fuzz::FUNCTIONS;
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(function) = u.choose(functions) else {
        return;
    };
    let Ok(input) = patchbay_fuzz::json(&mut u, 4) else {
        return;
    };
    match patchbay::fuzzing::arguments(function.params.clone(), &input) {
        Ok(values) => {
            for ((name, ty), value) in function.params.iter().zip(&values) {
                round_trip(ty, value, name);
            }
        }
        Err(error) => assert!(!error.path.is_empty(), "{}: an error names its place", function.name),
    }
    if let Some(result) = &function.result
        && let Ok(value) = bridge::to_val(result, &input, "result")
    {
        round_trip(result, &value, "result");
    }
});

/// A value converted to JSON converts back to the same value.
fn round_trip(ty: &wasmtime::component::Type, value: &wasmtime::component::Val, path: &str) {
    let json = bridge::from_val(ty, value.clone());
    let written = serde_json::to_value(bridge::JsonOf { ty, val: value }).expect("JSON keys are strings");
    assert!(
        written == json,
        "{path}: {value:?} written as {written}, converted as {json}"
    );
    match bridge::to_val(ty, &json, path) {
        Ok(again) => assert!(again == *value, "{path}: {value:?} → {json} → {again:?}"),
        Err(error) => panic!("{path}: {value:?} → {json} does not convert back: {error}"),
    }
}
