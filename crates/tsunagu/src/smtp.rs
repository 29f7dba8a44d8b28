//! A small SMTP client for reminders (#10): plain SMTP to a relay the
//! operator runs beside the service (EHLO, MAIL FROM, RCPT TO, DATA, QUIT;
//! no STARTTLS, no authentication — the relay is local and carries the mail
//! on over TLS: docs/DEPLOY.md), over tokio TCP with a timeout on every step.

use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Where mail goes and how long each step may take.
#[derive(Debug, Clone)]
pub struct SmtpRelay {
    /// `host:port` of the relay.
    pub addr: String,
    /// The name this node gives in EHLO.
    pub helo: String,
    /// The most one step (connect, a command's reply) may take.
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("the relay did not answer in time ({0})")]
    Timeout(&'static str),
    #[error("talking to the relay: {0}")]
    Io(#[from] std::io::Error),
    /// The relay refused a step: the step and its reply code.
    #[error("the relay refused {step}: {code}")]
    Refused { step: &'static str, code: u16 },
    #[error("the relay's reply is not SMTP")]
    Garbled,
    #[error("an address a relay cannot take")]
    BadAddress,
}

/// Sends one mail (`data`: headers and body with CRLF line ends, as
/// `tsunagu_domain::reminders::compose` makes it) from `from` to `to`.
pub async fn send(relay: &SmtpRelay, from: &str, to: &str, data: &str) -> Result<(), SmtpError> {
    use tsunagu_domain::reminders::plausible_email;
    if !plausible_email(from) || !plausible_email(to) {
        return Err(SmtpError::BadAddress);
    }
    let t = relay.timeout;
    let stream =
        tokio::time::timeout(t, TcpStream::connect(&relay.addr)).await.map_err(|_| SmtpError::Timeout("connect"))??;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    expect(&mut read, t, "greeting", &[220]).await?;
    command(&mut write, &mut read, t, &format!("EHLO {}\r\n", relay.helo), "EHLO", &[250]).await?;
    command(&mut write, &mut read, t, &format!("MAIL FROM:<{from}>\r\n"), "MAIL FROM", &[250]).await?;
    command(&mut write, &mut read, t, &format!("RCPT TO:<{to}>\r\n"), "RCPT TO", &[250, 251]).await?;
    command(&mut write, &mut read, t, "DATA\r\n", "DATA", &[354]).await?;
    let mut body = String::with_capacity(data.len() + 8);
    for line in data.split("\r\n") {
        // Dot-stuffing (RFC 5321 4.5.2).
        if line.starts_with('.') {
            body.push('.');
        }
        body.push_str(line);
        body.push_str("\r\n");
    }
    // `data` ends with CRLF, which left an empty last line: the end mark follows it.
    let body = body.strip_suffix("\r\n").unwrap_or(&body).to_owned();
    command(&mut write, &mut read, t, &format!("{body}.\r\n"), "the message", &[250]).await?;
    // The mail is taken; a QUIT that goes wrong changes nothing.
    let _ = command(&mut write, &mut read, t, "QUIT\r\n", "QUIT", &[221]).await;
    Ok(())
}

async fn command(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    t: Duration,
    line: &str,
    step: &'static str,
    ok: &[u16],
) -> Result<(), SmtpError> {
    tokio::time::timeout(t, write.write_all(line.as_bytes())).await.map_err(|_| SmtpError::Timeout(step))??;
    expect(read, t, step, ok).await
}

/// Reads one reply (its continuation lines `250-…` up to the last `250 …`)
/// and checks its code.
async fn expect(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    t: Duration,
    step: &'static str,
    ok: &[u16],
) -> Result<(), SmtpError> {
    // A reply of more than a few dozen lines is not a relay's.
    for _ in 0..64 {
        let mut line = String::new();
        let n = tokio::time::timeout(t, read.read_line(&mut line)).await.map_err(|_| SmtpError::Timeout(step))??;
        if n == 0 || line.len() < 3 {
            return Err(SmtpError::Garbled);
        }
        let code: u16 = line.get(..3).and_then(|c| c.parse().ok()).ok_or(SmtpError::Garbled)?;
        if line.as_bytes().get(3) == Some(&b'-') {
            continue;
        }
        return if ok.contains(&code) { Ok(()) } else { Err(SmtpError::Refused { step, code }) };
    }
    Err(SmtpError::Garbled)
}
