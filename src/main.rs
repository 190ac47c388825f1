//! The `envinspect` binary: parses flags, builds the environment (the clock, stdin, stdout, the
//! admin client, progress on a terminal, colour, threads), calls the library's one entry point
//! and maps its one outcome to an exit code. It is the only place that reads the clock, the
//! environment or the terminal.

mod app;
mod cli;
mod escape;
mod terminal;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use app::Env;
use clap::{CommandFactory, Parser};
use cli::{Cli, ColorArg, Todo};
use envinspect::render::Color;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        ColorArg::Always => Color::Ansi,
        ColorArg::Never => Color::Plain,
        // As ripgrep and cargo: a terminal, and NO_COLOR unset (or empty).
        ColorArg::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            if io::stdout().is_terminal() && !no_color {
                Color::Ansi
            } else {
                Color::Plain
            }
        }
    };
    let code = match run(cli, color) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let advice = app::advice(&e);
            eprintln!(
                "envinspect: error: {}",
                escape::line(&format!("{e:#}{advice}"))
            );
            2
        }
    };
    ExitCode::from(code)
}

fn run(cli: Cli, color: Color) -> anyhow::Result<u8> {
    let command = match cli.todo()? {
        Todo::Run(c) => *c,
        Todo::Completions(shell) => {
            let mut out = io::stdout().lock();
            clap_complete::generate(shell, &mut Cli::command(), "envinspect", &mut out);
            out.flush()?;
            return Ok(0);
        }
        Todo::Man => {
            let mut out = io::stdout().lock();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            out.flush()?;
            return Ok(0);
        }
    };
    let progress = terminal::Bar::new(io::stderr().is_terminal());
    let stdout = io::stdout();
    // Everything written passes through Escaped: text from a dump never drives the terminal.
    let colored = matches!(color, Color::Ansi);
    let mut out = escape::Escaped::new(io::BufWriter::new(stdout.lock()), colored);
    let mut stdin = io::stdin().lock();
    let mut env = Env {
        now: time::OffsetDateTime::now_utc(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        color,
        stdin: &mut stdin,
        out: &mut out,
        progress: &progress,
    };
    let outcome = app::run(command, &mut env);
    progress.clear();
    // What was written is flushed before an error is told (a partial answer, then why).
    out.flush()?;
    let outcome = outcome?;
    if let app::Outcome::Incomplete(e) = &outcome {
        eprintln!("envinspect: error: {}", escape::line(&e.to_string()));
    }
    Ok(outcome.exit_code())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    if let Some(r) = e.downcast_ref::<app::RunError>() {
        return r.is_broken_pipe();
    }
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
