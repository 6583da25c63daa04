//! NDJSON lines → `mapping::bind`: the fast hand-written scanner (with its serde_json fallback)
//! must bind exactly what the serde_json binder alone binds — the same values, or an error
//! on both sides — and never panic, also when it binds a line again with the key order it
//! learned. The first line of the input lists the attribute names (comma-separated); the rest
//! is the JSON text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mapexpr::mapping::bind::SlotIndex;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (head, line) = text.split_once('\n').unwrap_or(("givenName,sn,mail,m", text));
    let names: Vec<String> = head.split(',').take(32).map(str::to_owned).collect();
    let index = SlotIndex::new(&names);
    let serde = index.bind_serde(line);
    // Twice into one table: the second time the scanner follows the key order it learned
    // from the first, and reuses the table without clearing it first.
    let mut table = Vec::new();
    for _ in 0..2 {
        let fast = index.bind_into(line, &mut table).map(|()| &table);
        match (&fast, &serde) {
            (Ok(a), Ok(b)) => assert_eq!(*a, b, "the binders disagree on {line:?}"),
            (Err(_), Err(_)) => {}
            _ => panic!("one binder failed on {line:?}: fast {fast:?}, serde {serde:?}"),
        }
    }
});
