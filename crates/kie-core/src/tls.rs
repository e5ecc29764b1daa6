//! TLS for the default HTTP client: rustls with the crypto provider and the roots that
//! cargo features choose, never OpenSSL.
//!
//! reqwest 0.13 ties its `rustls` feature to AWS-LC, whose C build is most of a cold
//! build of this crate, and offers ring only as "no provider", where a client built
//! without a provider panics. So the default client is handed a complete rustls
//! configuration and never reaches reqwest's own choice:
//!
//! - provider: the application's, when it installed one as rustls's process default
//!   (a FIPS build, say), else `rustls-aws-lc`'s, else `rustls-ring`'s (the default);
//!   with none of them, [`ErrorKind::Config`](crate::ErrorKind::Config) says what to enable;
//! - roots: the platform's verifier (rustls-platform-verifier, as reqwest does: the
//!   system's trust store, and the system's own verifier on macOS, Windows and
//!   Android), or Mozilla's roots compiled in, with `webpki-roots`.
//!
//! The configuration must be of reqwest's rustls version: reqwest refuses another one
//! when the client is built, which the tests below would show.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;

use crate::error::Error;

/// What to do when no provider is available.
const NO_PROVIDER: &str = "no TLS crypto provider: enable the `rustls-ring` feature of kie \
    (or kie-core), or `rustls-aws-lc`, or install one with rustls's \
    `CryptoProvider::install_default` before building the client";

/// The rustls configuration of the default HTTP client.
pub(crate) fn client_config() -> Result<ClientConfig, Error> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .or_else(|| chosen_provider().map(Arc::new))
        .ok_or_else(|| Error::config(NO_PROVIDER.to_owned()))?;
    config_with(provider)
}

/// A configuration on `provider`, with the roots the features choose.
fn config_with(provider: Arc<CryptoProvider>) -> Result<ClientConfig, Error> {
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config(format!("could not configure TLS: {e}")))?;
    #[cfg(feature = "webpki-roots")]
    let builder = builder.with_root_certificates(
        webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .cloned()
            .collect::<rustls::RootCertStore>(),
    );
    #[cfg(not(feature = "webpki-roots"))]
    let builder = {
        use rustls_platform_verifier::BuilderVerifierExt as _;
        builder.with_platform_verifier().map_err(|e| {
            Error::config(format!(
                "could not load the system's TLS roots ({e}); install its CA certificates, \
                 or enable the `webpki-roots` feature"
            ))
        })?
    };
    let mut config = builder.with_no_client_auth();
    // What reqwest offers when it configures rustls itself without HTTP/2, which this
    // crate does not enable.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The provider the cargo features chose: AWS-LC over ring when both are on, since ring
/// is the default and AWS-LC is asked for by name.
#[cfg(feature = "rustls-aws-lc")]
fn chosen_provider() -> Option<CryptoProvider> {
    Some(rustls::crypto::aws_lc_rs::default_provider())
}

/// The provider the cargo features chose.
#[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
fn chosen_provider() -> Option<CryptoProvider> {
    Some(rustls::crypto::ring::default_provider())
}

/// No provider feature: only one the application installs.
#[cfg(not(any(feature = "rustls-ring", feature = "rustls-aws-lc")))]
fn chosen_provider() -> Option<CryptoProvider> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(feature = "rustls-ring", feature = "rustls-aws-lc"))]
    #[test]
    fn reqwest_takes_the_configuration() {
        let config = client_config().unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
        // A rustls of another version than reqwest's would be refused here, as an
        // "unknown preconfigured TLS backend".
        reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .build()
            .unwrap();
    }

    #[cfg(any(feature = "rustls-ring", feature = "rustls-aws-lc"))]
    #[test]
    fn the_configuration_uses_the_provider_it_is_given() {
        // A provider unlike any stock one (an application's own): a single cipher suite.
        let mut provider = chosen_provider().unwrap();
        provider.cipher_suites.truncate(1);
        let suite = provider.cipher_suites[0].suite();
        let config = config_with(Arc::new(provider)).unwrap();
        let suites: Vec<_> = config
            .crypto_provider()
            .cipher_suites
            .iter()
            .map(|s| s.suite())
            .collect();
        assert_eq!(suites, [suite]);
    }

    /// The provider's name, as its random number source shows it.
    #[cfg(any(feature = "rustls-ring", feature = "rustls-aws-lc"))]
    fn name(provider: &CryptoProvider) -> String {
        format!("{:?}", provider.secure_random)
    }

    #[cfg(feature = "rustls-aws-lc")]
    #[test]
    fn aws_lc_is_chosen_when_asked_for() {
        assert_eq!(name(&chosen_provider().unwrap()), "AwsLcRs");
    }

    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
    #[test]
    fn ring_is_chosen_by_default() {
        assert_eq!(name(&chosen_provider().unwrap()), "Ring");
    }

    #[cfg(not(any(feature = "rustls-ring", feature = "rustls-aws-lc")))]
    #[test]
    fn without_a_provider_the_error_says_what_to_enable() {
        let Err(Error::config(message)) = client_config() else {
            panic!("a TLS configuration without a provider");
        };
        assert!(message.contains("`rustls-ring` feature"), "{message}");
    }
}
