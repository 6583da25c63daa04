//! Format strings × instants × texts → `mapexpr::datetime`: tokenizing a format, formatting
//! an instant, ParseExact (of the formatted text and of arbitrary text), CDate parsing and
//! DateTimeStyles parsing never panic, and ParseExact (with its straight walk) says exactly
//! what the general parser alone says.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use mapexpr::DateTime;
use mapexpr::datetime::format::Format;
use mapexpr::datetime::styles::{parse_styles, Styles};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let ticks: i64 = u.arbitrary().unwrap_or(0);
    let styles: u8 = u.arbitrary().unwrap_or(0);
    let rest = match std::str::from_utf8(u.take_rest()) {
        Ok(s) => s,
        Err(_) => return,
    };
    // `format` NUL `text` NUL `styles text`.
    let mut parts = rest.splitn(3, '\0');
    let format = parts.next().unwrap_or("");
    let text = parts.next().unwrap_or("");
    let styles_text = parts.next().unwrap_or("");

    let _ = parse_styles(styles_text);
    let _ = mapexpr::datetime::parse_cdate(text);
    let d = DateTime::from_ticks(ticks.rem_euclid(DateTime::MAX.ticks() + 1)).unwrap_or(DateTime::MIN);
    let Ok(f) = Format::parse(format) else { return };
    let out = f.format(d);
    let styles = Styles(styles);
    let today = || DateTime::MIN;
    for t in [out.as_str(), text] {
        assert_eq!(
            f.parse_exact(t, styles, today),
            f.parse_exact_general(t, styles, today),
            "{format:?} on {t:?}"
        );
    }
});
