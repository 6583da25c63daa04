//! parse → print → parse gives the same tree, and printing the reparsed tree gives the same
//! text (the printer is canonical).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = mapexpr::syntax::parse(src) else { return };
    let printed = parsed.expr.to_string();
    // Canonical spacing (", ", " & ") can make the text longer than the source, so the
    // second parse allows more length; depth only shrinks (groups print only where needed).
    let roomy = mapexpr::Limits { max_expression_len: usize::MAX, ..mapexpr::Limits::default() };
    let again = match mapexpr::syntax::parse_with(&printed, &roomy) {
        Ok(p) => p,
        Err(d) => panic!("`{printed}` (printed from {src:?}) does not parse: {d:?}"),
    };
    assert_eq!(again.expr, parsed.expr, "printed as `{printed}`");
    assert_eq!(again.expr.to_string(), printed);
});
