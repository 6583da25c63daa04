//! The `mapexpr` command-line tool: a thin layer over the library.

#![forbid(unsafe_code)]

mod cli;

fn main() {
    let code = cli::main();
    std::process::exit(code);
}
