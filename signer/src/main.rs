use std::process::ExitCode;

use s3file_signer::config::{Cli, Command, Config};

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse_with_file(std::env::args().collect()).unwrap_or_else(|error| error.exit());
    match cli.into_command() {
        Command::Check { deploy, offline, settings } => check(settings, deploy, offline),
        Command::Sweep { older_than_hours, settings } => sweep(settings, older_than_hours),
        Command::Serve(settings) => {
            let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
            match runtime.block_on(s3file_signer::serve(settings)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Human-readable lines by default; one JSON object per event with `S3FILE_LOG_FORMAT=json`, for
/// log pipelines. `RUST_LOG` filters as usual.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,aws_config=warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("S3FILE_LOG_FORMAT").is_ok_and(|format| format == "json") {
        logs.json().with_current_span(true).init();
    } else {
        logs.init();
    }
}

fn sweep(settings: s3file_signer::config::Settings, older_than_hours: u64) -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
    let swept = runtime.block_on(async {
        let state = s3file_signer::AppState::build(settings, ([127, 0, 0, 1], 0).into()).await?;
        s3file_signer::sweep::sweep(&state, std::time::Duration::from_secs(older_than_hours * 3600)).await
    });
    match swept {
        Ok(count) => {
            println!("Aborted {count} unfinished upload(s) older than {older_than_hours} hour(s).");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn check(settings: s3file_signer::config::Settings, deploy: bool, offline: bool) -> ExitCode {
    let config = Config::from_settings(&settings);
    let mut problems = match &config {
        Err(errors) => errors.clone(),
        Ok(config) if deploy => config.deploy_warnings(),
        Ok(_) => Vec::new(),
    };
    let config =
        config.ok().filter(|config| deploy && !offline && problems.is_empty() && !config.is_dev_mode());
    if let Some(config) = config {
        let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
        let bucket = runtime.block_on(async {
            // Nothing listens: the state is built only to reach the bucket.
            let state =
                s3file_signer::AppState::from_config(config, ([127, 0, 0, 1], 0).into(), None).await?;
            anyhow::Ok(s3file_signer::deploy::bucket_warnings(&state).await)
        });
        match bucket {
            Ok(warnings) => problems.extend(warnings),
            Err(error) => problems.push(format!("{error:#}")),
        }
    }
    if problems.is_empty() {
        println!("System check identified no issues.");
        return ExitCode::SUCCESS;
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    eprintln!("System check identified {} issue(s).", problems.len());
    ExitCode::FAILURE
}
