//! Any bytes as an exported schema or a mapping set → validate, load, compile and apply to a
//! record: no panic; a report that calls the schema safe has no errors; every finding that
//! carries an expression span points inside that expression.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mapexpr::mapping::{validate, CompiledSet, MappingSet, Mode};
use mapexpr::{CompileOptions, EvalContext, FixedClock, Limits, NoRandom, SlotRecord, TakenSet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(report) = validate::validate_schema(text) {
        if report.is_safe() {
            assert_eq!(report.count(mapexpr::Severity::Error), 0);
        }
    }
    let Ok(set) = MappingSet::load(text, None) else { return };
    let Ok(compiled) = CompiledSet::compile(&set, &CompileOptions::default()) else { return };
    // Apply it to a record built from the same bytes: whatever the set reads.
    let line = r#"{"givenName": "Zoë", "surname": "O'Neil", "mail": ["a@x", "b@y"], "n": 5}"#;
    let Ok(slots) = compiled.bind_json_text(line) else { return };
    let record = SlotRecord::new(&slots);
    let clock = FixedClock(mapexpr::DateTime::MIN);
    let (mut rng, oracle, limits) = (NoRandom, TakenSet::new(), Limits::default());
    let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
    let _ = compiled.apply(&record, Mode::Create, &mut ctx);
});
