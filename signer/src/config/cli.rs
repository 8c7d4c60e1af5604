//! The command line: the subcommands, each with the settings, and the settings file between
//! flags and the environment.

use clap::{Parser, Subcommand};

use super::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "s3file-signer",
    version,
    about = "Signs direct browser-to-S3 uploads and finalizes them",
    args_conflicts_with_subcommands = true,
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the sign and finalize endpoints (the default).
    Serve(Settings),
    /// Check the configuration.
    Check {
        /// Fail on settings unfit for production (such as the embedded dev store), like
        /// Django's `manage.py check --deploy`.
        #[arg(long)]
        deploy: bool,
        /// With --deploy: skip the checks that ask the bucket (its CORS configuration).
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        settings: Settings,
    },
    /// Abort multipart uploads under S3FILE_UPLOAD_PATH that were started long ago and never
    /// finished (run it daily, or use a bucket lifecycle rule where the store has them).
    Sweep {
        /// Age in hours from which an unfinished upload is abandoned.
        #[arg(long, default_value_t = 24)]
        older_than_hours: u64,
        #[command(flatten)]
        settings: Settings,
    },
}

impl Cli {
    /// Parses `argv`, with the settings file (if one is named) between flags and environment.
    pub fn parse_with_file(argv: Vec<String>) -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches};
        let first = Cli::try_parse_from(&argv)?;
        let path = match &first.command {
            Some(Command::Serve(settings))
            | Some(Command::Check { settings, .. })
            | Some(Command::Sweep { settings, .. }) => settings.config.clone(),
            None => first.settings.config.clone(),
        };
        let Some(path) = path else { return Ok(first) };
        let file_args = crate::config_file::file_args(&path).map_err(|error| {
            Cli::command().error(clap::error::ErrorKind::InvalidValue, format!("{error:#}"))
        })?;
        let matches =
            Cli::command().try_get_matches_from(crate::config_file::with_file_args(&argv, file_args))?;
        Cli::from_arg_matches(&matches)
    }

    /// What to do; without a subcommand, serve with the settings given.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.settings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settings_file_sits_between_flags_and_environment() {
        let dir = std::env::temp_dir().join(format!("s3file-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s3file.toml");
        std::fs::write(&path, "location = \"from-file\"\nupload_path = \"file/tmp\"\n").unwrap();
        let argv = |extra: &[&str]| {
            let mut argv =
                vec!["s3file-signer".to_owned(), "--config".to_owned(), path.display().to_string()];
            argv.extend(extra.iter().map(|item| item.to_string()));
            argv
        };
        let settings = |cli: Cli| match cli.into_command() {
            Command::Serve(settings) => settings,
            Command::Check { settings, .. } | Command::Sweep { settings, .. } => settings,
        };
        let from_file = settings(Cli::parse_with_file(argv(&[])).unwrap());
        assert_eq!(from_file.location, "from-file");
        assert_eq!(from_file.upload_path, "file/tmp");
        let flag_wins = settings(Cli::parse_with_file(argv(&["--location", "from-flag"])).unwrap());
        assert_eq!(flag_wins.location, "from-flag");
        assert_eq!(flag_wins.upload_path, "file/tmp");
        std::fs::write(&path, "bogus_setting = 1\n").unwrap();
        let error = Cli::parse_with_file(argv(&[])).unwrap_err().to_string();
        assert!(error.contains("bogus-setting"), "{error}");
    }

    #[test]
    fn settings_go_before_or_after_the_subcommand() {
        let serve = Cli::try_parse_from(["s3file-signer", "serve", "--www", "www"]).unwrap().into_command();
        assert!(matches!(serve, Command::Serve(settings) if settings.www.is_some()));
        let bare = Cli::try_parse_from(["s3file-signer", "--www", "www"]).unwrap().into_command();
        assert!(matches!(bare, Command::Serve(settings) if settings.www.is_some()));
        let check = Cli::try_parse_from(["s3file-signer", "check", "--deploy", "--bucket-name", "b"])
            .unwrap()
            .into_command();
        assert!(
            matches!(check, Command::Check { deploy: true, offline: false, settings } if settings.bucket_name.as_deref() == Some("b"))
        );
    }
}
