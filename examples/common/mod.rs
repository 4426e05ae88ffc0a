//! What the coordination examples share: the `--fast` and `--scale FACTOR` options that
//! shorten every sleep in them (the tests run them with `--fast`, or a scale under valgrind).
#![allow(dead_code)] // each example uses what it needs

/// If `arg` is `--fast` (a hundredth) or `--scale FACTOR` (FACTOR taken from `args`), the
/// scale it asks for; exits with the usage line if FACTOR is not a positive number.
pub fn scale_option(
    arg: &str,
    args: &mut impl Iterator<Item = String>,
    usage: &str,
) -> Option<f64> {
    match arg {
        "--fast" => Some(0.01),
        "--scale" => match args.next().and_then(|s| s.parse::<f64>().ok()) {
            Some(s) if s > 0.0 => Some(s),
            _ => {
                eprintln!("{usage}");
                std::process::exit(2)
            }
        },
        _ => None,
    }
}

/// The scale from a command line that takes only `--fast` or `--scale FACTOR` (other
/// arguments are ignored).
pub fn scale(program: &str) -> f64 {
    let usage = format!("usage: {program} [--fast | --scale FACTOR]");
    let mut scale = 1.0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if let Some(s) = scale_option(&arg, &mut args, &usage) {
            scale = s;
        }
    }
    scale
}
