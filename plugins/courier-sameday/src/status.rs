//! Sameday's statuses → the contract's shipment status.
//!
//! Sameday names a status by an id and Romanian texts (`status`,
//! `statusLabel`, `statusState`): `1` "AWB Emis" (issued), `33` "In livrare
//! la curier" (out for delivery), `9` "Livrata cu succes" (delivered) are
//! the ids its own SDK's fixtures show; the rest is read from the words
//! Sameday uses (cancelled, returned, refused, picked up, in transit). A
//! status this cannot place maps to `None`, and the shipment keeps the status
//! it had before it; the provider's own texts are kept verbatim beside it.

use patchbay_sdk::types::ShipmentStatus;

/// Lower-case ASCII of a Romanian text (diacritics folded).
fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'ă' | 'â' | 'Ă' | 'Â' => 'a',
            'î' | 'Î' => 'i',
            'ș' | 'ş' | 'Ș' | 'Ş' => 's',
            'ț' | 'ţ' | 'Ț' | 'Ţ' => 't',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

/// The normalized status of one Sameday status, when it says one.
pub fn normalize(id: i64, texts: &[&str]) -> Option<ShipmentStatus> {
    match id {
        1 => return Some(ShipmentStatus::Created),
        9 => return Some(ShipmentStatus::Delivered),
        33 => return Some(ShipmentStatus::OutForDelivery),
        _ => {}
    }
    let text = fold(&texts.join(" | "));
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    // Order matters: "nelivrat" contains "livrat", a return can be
    // "delivered" back to the sender, "in livrare" is not yet delivered.
    if has(&["anulat"]) {
        Some(ShipmentStatus::Cancelled)
    } else if has(&["retur"]) {
        Some(ShipmentStatus::Returned)
    } else if has(&[
        "nelivrat",
        "refuz",
        "avizat",
        "adresa gresita",
        "adresa incompleta",
        "destinatar absent",
        "nu raspunde",
        "reprogramat",
        "esuat",
    ]) {
        Some(ShipmentStatus::FailedDelivery)
    } else if has(&["in livrare", "in curs de livrare"]) {
        Some(ShipmentStatus::OutForDelivery)
    } else if has(&["livrat", "livrata"]) {
        Some(ShipmentStatus::Delivered)
    } else if has(&["ridicat", "preluat"]) {
        Some(ShipmentStatus::PickedUp)
    } else if has(&[
        "tranzit",
        "hub",
        "depozit",
        "sortat",
        "sortare",
        "granita",
        "traversare",
    ]) {
        Some(ShipmentStatus::InTransit)
    } else if has(&["emis", "inregistrat", "comanda curier primita"]) {
        Some(ShipmentStatus::Created)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sameday_statuses_map() {
        let cases: &[(i64, &[&str], Option<ShipmentStatus>)] = &[
            (
                1,
                &["AWB Emis", "Document de transport emis"],
                Some(ShipmentStatus::Created),
            ),
            (
                9,
                &["Livrata cu succes", "Colet livrat"],
                Some(ShipmentStatus::Delivered),
            ),
            (
                33,
                &["In livrare la curier", "Colete in curs de livrare"],
                Some(ShipmentStatus::OutForDelivery),
            ),
            (
                56,
                &["Iesire din hub", "In tranzit spre depozit"],
                Some(ShipmentStatus::InTransit),
            ),
            (
                5,
                &["In traversare granita", "Coletul este în tranzit internațional"],
                Some(ShipmentStatus::InTransit),
            ),
            (
                4,
                &["Ridicat de la expeditor", "Colet preluat de curier"],
                Some(ShipmentStatus::PickedUp),
            ),
            (
                16,
                &["Refuz la livrare", "Colet nelivrat"],
                Some(ShipmentStatus::FailedDelivery),
            ),
            (40, &["Retur livrat la expeditor"], Some(ShipmentStatus::Returned)),
            (7, &["Comandă anulată"], Some(ShipmentStatus::Cancelled)),
            (99, &["Informare client"], None),
        ];
        for (id, texts, want) in cases {
            assert_eq!(normalize(*id, texts), *want, "{id} {texts:?}");
        }
    }
}
