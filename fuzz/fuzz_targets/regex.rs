//! The .NET regex wrapper (its direct walk for linear patterns, then the engine) against the
//! `regex` crate on the same translated pattern: every match of the .NET iteration and
//! every group span must agree. Input: the pattern, a newline, the haystack.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mapexpr::text::regex_dotnet::{DotnetRegex, next_start, translate};

type Spans = Vec<Option<(usize, usize)>>;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Some((pattern, hay)) = text.split_once('\n') else {
        return;
    };
    if pattern.len() > 96 || hay.len() > 512 {
        return;
    }
    let Ok(re) = DotnetRegex::new(pattern) else {
        return;
    };
    let Ok(translated) = translate(pattern) else {
        return;
    };
    let Ok(reference) = regex::Regex::new(&translated.pattern) else {
        return;
    };
    let groups = reference.captures_len();
    let mut want: Vec<Spans> = Vec::new();
    let mut pos = 0;
    while pos <= hay.len() {
        let Some(caps) = reference.captures_at(hay, pos) else {
            break;
        };
        let Some(m) = caps.get(0) else { break };
        want.push(
            (0..groups)
                .map(|i| caps.get(i).map(|g| (g.start(), g.end())))
                .collect(),
        );
        pos = next_start(hay, m.start(), m.end());
    }
    let mut got: Vec<Spans> = Vec::new();
    let mut found = re.matches(hay, true);
    while found.next().is_some() {
        got.push((0..groups).map(|i| found.caps().get(i)).collect());
        if got.len() > want.len() {
            break;
        }
    }
    assert_eq!(got, want, "{pattern:?} on {hay:?}");
    // Whole matches only (the mode Replace uses when the replacement names no group).
    let mut spans = Vec::new();
    let mut found = re.matches(hay, false);
    while let Some(m) = found.next() {
        spans.push(Some(m));
        if spans.len() > want.len() {
            break;
        }
    }
    let whole: Vec<_> = want.iter().map(|g| g.first().copied().flatten()).collect();
    assert_eq!(spans, whole, "{pattern:?} on {hay:?} (whole matches only)");
});
