//! How a sync engine plugs its own pieces into mapexpr: its user type as a zero-copy
//! `Record`, its clock for `Now()`, its random source for `Guid()`/`RandomString()`, and its
//! directory as the uniqueness oracle of `SelectUniqueValue`; then a whole mapping set applied
//! to the engine's users through a `Binder` (field numbers resolved once, every string
//! borrowed, one slot table reused for every user).
//!
//! Run with `cargo run --example sync_engine`.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Mutex;

use mapexpr::mapping::bind::{Binder, Field};
use mapexpr::mapping::{CompiledSet, MappingSet, Mode};
use mapexpr::{
    Clock, CompileOptions, DateTime, EvalContext, Limits, Outcome, RandomSource, Record,
    UniquenessOracle, Value,
};

/// The engine's own user type. The program reads its fields in place: no copy, no map.
struct Worker {
    first: String,
    last: String,
    hired: String,
    emails: Vec<String>,
}

impl Worker {
    /// The engine's own field numbering (a schema it already has: column order, struct
    /// order…). A `Binder` maps the set's attributes onto it once.
    const FIELDS: [&'static str; 4] = ["FirstName", "LastName", "HireDate", "Emails"];

    /// Field `n` of `FIELDS`, borrowed.
    fn field(&self, n: usize) -> Field<'_> {
        match n {
            0 => Field::Str(&self.first),
            1 => Field::Str(&self.last),
            2 => Field::Str(&self.hired),
            _ => Field::Texts(&self.emails),
        }
    }
}

impl Record for Worker {
    fn get(&self, name: &str) -> Value<'_> {
        match name {
            "FirstName" => Value::Str(Cow::Borrowed(&self.first)),
            "LastName" => Value::Str(Cow::Borrowed(&self.last)),
            "HireDate" => Value::Str(Cow::Borrowed(&self.hired)),
            "Emails" => Value::multi(self.emails.iter().map(|e| Value::str(e)).collect()),
            _ => Value::Null,
        }
    }
}

/// The engine's clock: one instant for the whole synchronization cycle, so every record of
/// the cycle sees the same `Now()`.
struct CycleClock(DateTime);

impl Clock for CycleClock {
    fn now(&self) -> DateTime {
        self.0
    }
}

/// The engine's random source (here a xorshift seeded per cycle; a real engine would use its
/// CSPRNG for passwords).
struct EngineRng(u64);

impl RandomSource for EngineRng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The target directory: a value is taken when an object already has it (compared ignoring
/// case, as directory matching does). A real engine would query its directory here.
struct Directory {
    upns: Mutex<HashSet<String>>,
}

impl UniquenessOracle for Directory {
    fn is_taken(&self, candidate: &str) -> bool {
        self.upns
            .lock()
            .map(|set| set.contains(&candidate.to_lowercase()))
            .unwrap_or(true)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Compile once, evaluate for every record (a Program is Send + Sync).
    let opts = CompileOptions::default();
    let upn = mapexpr::compile_with(
        r#"SelectUniqueValue(
            Join("@", ToLower(NormalizeDiacritics(Join(".", [FirstName], [LastName]))), "contoso.com"),
            Join("@", ToLower(NormalizeDiacritics(Join(".", Left([FirstName], 1), [LastName]))), "contoso.com"))"#,
        &opts,
    )?
    .program;
    let days = mapexpr::compile(r#"DateDiff("d", CDate([HireDate]), Now())"#)?;
    let mail = mapexpr::compile(r#"Item([Emails], 1)"#)?;
    let password = mapexpr::compile("Redact(RandomString(12, 2, 1, 1, 1))")?;

    let clock =
        CycleClock(mapexpr::datetime::parse_rfc3339("2024-06-01T00:00:00Z").ok_or("bad instant")?);
    let mut rng = EngineRng(0x9E37_79B9_7F4A_7C15);
    let directory = Directory {
        upns: Mutex::new(["zoe.muller@contoso.com".to_owned()].into_iter().collect()),
    };
    let limits = Limits::default();

    let worker = Worker {
        first: "Zoë".into(),
        last: "Müller".into(),
        hired: "2024-05-01".into(),
        emails: vec!["zoe@example.org".into(), "zm@example.org".into()],
    };
    let mut ctx = EvalContext::new(&clock, &mut rng, &directory, &limits);
    for (name, program) in [
        ("upn", &upn),
        ("daysSinceHire", &days),
        ("mail", &mail),
        ("password", &password),
    ] {
        match program.eval(&worker, &mut ctx)? {
            Outcome::Value(v) => println!("{name}: {v}"),
            Outcome::Ignore => println!("{name}: (left out)"),
        }
    }

    // A whole mapping set over the cycle's users. The set is compiled once; its slot order
    // (`attributes()`) is mapped onto the engine's field numbers once; then each user is bound
    // by asking for just those fields, borrowing them into one slot table that is overwritten
    // user after user (no copy, no allocation).
    let set = MappingSet::from_json_str(
        r#"[
            {"target": "displayName", "expression": "Join(\" \", [FirstName], [LastName])"},
            {"target": "mailNickname", "expression": "ToLower(NormalizeDiacritics(Left([FirstName], 1) & [LastName]))"},
            {"target": "otherMails", "attribute": "Emails"},
            {"target": "hired", "expression": "FormatDateTime([HireDate], , \"yyyy-MM-dd\", \"yyyyMMddHHmmss.fZ\")"},
            {"target": "department", "attribute": "Department", "default": "Unassigned"}
        ]"#,
    )?;
    let set = CompiledSet::compile(&set, &opts)?;
    let binder = Binder::new(set.attributes(), |attribute| {
        Worker::FIELDS.iter().position(|f| *f == attribute)
    });
    // `Department` is not one of the engine's fields: its slot stays Null, so the default applies.
    let users = [
        worker,
        Worker {
            first: "Łukasz".into(),
            last: "Nowak".into(),
            hired: "2019-11-30".into(),
            emails: vec![],
        },
    ];
    let mut table = Vec::new();
    for user in &users {
        binder.bind_into(&mut table, |n| user.field(n));
        match set.apply(table.as_slice(), Mode::Create, &mut ctx) {
            Ok(attributes) => {
                let shown: Vec<String> = attributes
                    .iter()
                    .map(|(target, value)| format!("{target}={value}"))
                    .collect();
                println!("{}", shown.join("; "));
            }
            Err(failures) => println!("rejected: {failures:?}"),
        }
    }
    Ok(())
}
