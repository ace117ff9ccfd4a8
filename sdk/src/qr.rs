//! QR codes for `toss:` URIs: terminal rendering and PNG files.

use crate::SdkError;
use qrcode::{Color, QrCode};

fn code(text: &str) -> Result<QrCode, SdkError> {
    QrCode::new(text.as_bytes()).map_err(|_| SdkError::Encoding("too long for one QR code"))
}

/// The QR code as text, two modules per character row (Unicode half blocks), with a quiet zone.
pub fn to_terminal(text: &str) -> Result<String, SdkError> {
    let code = code(text)?;
    let width = code.width();
    let dark = |x: isize, y: isize| {
        x >= 0
            && y >= 0
            && (x as usize) < width
            && (y as usize) < width
            && code[(x as usize, y as usize)] == Color::Dark
    };
    let quiet = 2isize;
    let mut out = String::new();
    let mut y = -quiet;
    while y < width as isize + quiet {
        for x in -quiet..width as isize + quiet {
            out.push(match (dark(x, y), dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
        y += 2;
    }
    Ok(out)
}

/// The QR code as a PNG (8-bit grayscale, `scale` pixels per module, 4-module quiet zone).
pub fn to_png(text: &str, scale: u32) -> Result<Vec<u8>, SdkError> {
    let code = code(text)?;
    let modules = code.width() as u32 + 8;
    let size = modules * scale;
    let mut pixels = vec![255u8; (size * size) as usize];
    for y in 0..size {
        for x in 0..size {
            let (mx, my) = ((x / scale) as i64 - 4, (y / scale) as i64 - 4);
            let w = code.width() as i64;
            if mx >= 0
                && my >= 0
                && mx < w
                && my < w
                && code[(mx as usize, my as usize)] == Color::Dark
            {
                pixels[(y * size + x) as usize] = 0;
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, size, size);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|_| SdkError::Encoding("PNG header"))?;
        writer
            .write_image_data(&pixels)
            .map_err(|_| SdkError::Encoding("PNG data"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Intent, SignedIntent};
    use proptest::prelude::*;
    use solana_keypair::Keypair;
    use solana_pubkey::Pubkey;
    use solana_signer::Signer;

    /// Decodes the single QR code in a grayscale PNG.
    fn decode_png(png_bytes: &[u8]) -> String {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let (w, h) = (info.width as usize, info.height as usize);
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn signed_intents_survive_qr(amount in 1..u64::MAX, reference in proptest::option::of(any::<[u8; 32]>()), token in any::<bool>()) {
            let kp = Keypair::new();
            let intent = Intent {
                sender: kp.pubkey(),
                recipient: Pubkey::new_unique(),
                mint: token.then(Pubkey::new_unique),
                amount,
                nonce_account: Pubkey::new_unique(),
                nonce_value: [7; 32],
                expiry: 1_900_000_000,
                max_fee: 5_000,
                reference,
            };
            let signed = SignedIntent::sign(&kp, &intent).unwrap();
            let uri = signed.to_uri();
            let scanned = decode_png(&to_png(&uri, 4).unwrap());
            prop_assert_eq!(&scanned, &uri);
            let back = SignedIntent::from_uri(&scanned).unwrap();
            prop_assert_eq!(back.verify().unwrap(), intent);
            let term = to_terminal(&uri).unwrap();
            prop_assert!(term.lines().count() > 10);
        }
    }

    #[test]
    fn oversized_payloads_are_refused() {
        assert!(to_png(&"x".repeat(8_000), 2).is_err());
        assert!(to_terminal(&"x".repeat(8_000)).is_err());
    }
}
