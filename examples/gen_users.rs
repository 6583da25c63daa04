//! Generates synthetic Workday-style worker records for `mapexpr run`, deterministically:
//! the same arguments always print the same file.
//!
//! ```text
//! cargo run --example gen_users -- 5000 > examples/users.ndjson
//! cargo run --example gen_users -- 200 --csv > examples/users.csv
//! cargo run --release --example gen_users -- 1000000 --broken-every 1000 > /tmp/users-1m.ndjson
//! ```
//!
//! The records have names with diacritics, apostrophes and spaces, optional attributes that
//! are missing or empty, and multi-valued attributes (JSON arrays; in CSV, JSON-array text in a
//! cell). `--broken-every K` makes every K-th record fail: alternately an impossible hire date
//! (an evaluation error) and a line that is not JSON (an input error), to exercise rejects.

use std::io::{BufWriter, Write};

const FIRST: &[&str] = &[
    "José",
    "Zoë",
    "Björn",
    "Chloé",
    "Søren",
    "Łukasz",
    "Anaïs",
    "François",
    "Ingrid",
    "Mary Ann",
    "John",
    "Aisha",
    "Mateo",
    "Oğuz",
    "Renée",
    "Žofia",
    "Ólafur",
    "Wei",
    "Siobhán",
    "Émilie",
    "Noah",
    "Priya",
    "Jürgen",
    "Ana-María",
];
const LAST: &[&str] = &[
    "Müller",
    "García",
    "O'Brien",
    "Nuñez",
    "Østergaard",
    "Dvořák",
    "van der Berg",
    "Smith",
    "Łęcki",
    "Schäfer",
    "Johansson",
    "Fernández",
    "Kowalski",
    "Dubois",
    "Lindqvist",
    "Nakamura",
    "D'Angelo",
    "Håkansson",
    "Brontë",
    "Patel",
];
const MIDDLE: &[&str] = &["Marie", "James", "Élodie", "K.", "Ángel", "Lee"];
const COUNTRIES: &[(&str, &str, &str, &str)] = &[
    ("US", "Seattle", "WA", "98101"),
    ("GB", "London", "", "EC1A 1BB"),
    ("DE", "München", "BY", "80331"),
    ("FR", "Besançon", "", "25000"),
    ("ES", "A Coruña", "GA", "15001"),
    ("SE", "Göteborg", "", "411 01"),
    ("NO", "Tromsø", "", "9008"),
    ("PL", "Łódź", "", "90-001"),
    ("BR", "São Paulo", "SP", "01000-000"),
];
const ORGS: &[&str] = &[
    "Finance",
    "Human Resources",
    "Research & Development",
    "Sales",
    "Customer Success",
    "IT Operations",
];
const TITLES: &[&str] = &[
    "Analyst",
    "Senior Engineer",
    "Account Executive",
    "HR Business Partner",
    "Director",
    "Technician",
];
const WORKER_TYPES: &[&str] = &[
    "Regular",
    "Regular",
    "Regular",
    "Contingent Worker",
    "Intern",
    "Seasonal",
];
const FAMILIES: &[&str] = &["Engineering", "Management", "Sales", "Support", "Finance"];

/// SplitMix64: tiny, fast and stable across platforms, which is all a fixture needs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn main() {
    let mut count = 5000usize;
    let mut csv = false;
    let mut broken_every = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--csv" => csv = true,
            "--broken-every" => {
                broken_every = args.next().and_then(|n| n.parse().ok()).unwrap_or(0)
            }
            n => match n.parse() {
                Ok(n) => count = n,
                Err(_) => {
                    eprintln!("usage: gen_users [COUNT] [--csv] [--broken-every K]");
                    std::process::exit(2);
                }
            },
        }
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut rng = Rng(0x5EED);
    let columns = [
        "WorkerID",
        "FirstName",
        "LastName",
        "PreferredFirstName",
        "PreferredLastName",
        "MiddleName",
        "BusinessTitle",
        "SupervisoryOrganization",
        "LocationName",
        "AddressLineData",
        "City",
        "StateProvince",
        "PostalCode",
        "CountryReferenceTwoLetter",
        "PrimaryWorkTelephone",
        "PrimaryWorkMobile",
        "OtherTelephones",
        "EmailAliases",
        "WorkerType",
        "Active",
        "JobProfile",
        "CostCenter",
        "CostCenterCode",
        "StatusHireDate",
        "JobFamilies",
        "ManagerReference",
    ];
    if csv {
        let _ = writeln!(out, "{}", columns.join(","));
    }
    for i in 1..=count {
        let mut rec = serde_json::Map::new();
        let mut put = |k: &str, v: serde_json::Value| {
            rec.insert(k.to_owned(), v);
        };
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let (country, city, state, postal) = COUNTRIES[rng.below(COUNTRIES.len())];
        put("WorkerID", format!("{:06}", 100000 + i).into());
        put("FirstName", first.into());
        put("LastName", last.into());
        if rng.chance(20) {
            put("PreferredFirstName", rng.pick(FIRST).into());
        } else if rng.chance(10) {
            put("PreferredFirstName", "".into());
        }
        if rng.chance(5) {
            put("PreferredLastName", rng.pick(LAST).into());
        }
        if rng.chance(40) {
            put("MiddleName", rng.pick(MIDDLE).into());
        }
        put("BusinessTitle", rng.pick(TITLES).into());
        if !rng.chance(3) {
            put("SupervisoryOrganization", rng.pick(ORGS).into());
        }
        put("LocationName", format!("{city} Office").into());
        put(
            "AddressLineData",
            format!("{} Main Street", 1 + rng.below(400)).into(),
        );
        put("City", city.into());
        if !state.is_empty() {
            put("StateProvince", state.into());
        }
        put("PostalCode", postal.into());
        put("CountryReferenceTwoLetter", country.into());
        put(
            "PrimaryWorkTelephone",
            format!("+1 (425) 555-{:04}", rng.below(10000)).into(),
        );
        if rng.chance(60) {
            put(
                "PrimaryWorkMobile",
                format!("+1 206-555-{:04}", rng.below(10000)).into(),
            );
        }
        let phones: Vec<serde_json::Value> = (0..rng.below(3))
            .map(|_| format!("+1 425 555 {:04}", rng.below(10000)).into())
            .collect();
        put("OtherTelephones", phones.into());
        let aliases: Vec<serde_json::Value> = (0..rng.below(3))
            .map(|k| format!("{}.{}{}@Contoso.com", first, last, k + 1).into())
            .collect();
        if !aliases.is_empty() {
            put("EmailAliases", aliases.into());
        }
        put("WorkerType", rng.pick(WORKER_TYPES).into());
        put("Active", if rng.chance(92) { "1" } else { "0" }.into());
        put(
            "JobProfile",
            format!("{} {}", rng.pick(FAMILIES), rng.pick(TITLES)).into(),
        );
        let cc = 1000 + rng.below(90);
        put("CostCenter", format!("CC{cc} {}", rng.pick(ORGS)).into());
        put("CostCenterCode", format!("CC{cc}").into());
        let broken = broken_every > 0 && i % broken_every == 0;
        let hire = if broken && (i / broken_every) % 2 == 1 {
            "2021-02-30".to_owned()
        } else {
            format!(
                "{}-{:02}-{:02}",
                2005 + rng.below(20),
                1 + rng.below(12),
                1 + rng.below(28)
            )
        };
        put("StatusHireDate", hire.into());
        let fams: Vec<serde_json::Value> = (0..1 + rng.below(2))
            .map(|_| rng.pick(FAMILIES).into())
            .collect();
        put("JobFamilies", fams.into());
        if i > 1 && rng.chance(95) {
            put(
                "ManagerReference",
                format!("{:06}", 100000 + 1 + rng.below(i - 1)).into(),
            );
        }
        let line = if csv {
            columns
                .iter()
                .map(|c| match rec.get(*c) {
                    None => String::new(),
                    Some(serde_json::Value::String(s)) => csv_cell(s),
                    Some(v) => csv_cell(&v.to_string()),
                })
                .collect::<Vec<_>>()
                .join(",")
        } else if broken && (i / broken_every) % 2 == 0 {
            // Truncated JSON: an input error.
            let text = serde_json::Value::Object(rec).to_string();
            let mut cut = text.len() / 2;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_owned()
        } else {
            serde_json::Value::Object(rec).to_string()
        };
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
    let _ = out.flush();
}

/// Quotes a CSV cell when it holds a comma, quote or line break.
fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
