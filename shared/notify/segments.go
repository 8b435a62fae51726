package notify

import "unicode/utf16"

// Encoding is how an SMS text travels.
type Encoding string

// The SMS encodings.
const (
	GSM7 Encoding = "GSM-7"
	UCS2 Encoding = "UCS-2"
)

// Segments says what an SMS text costs: its encoding, its length in the
// encoding's units, and how many SMS segments carry it.
type Segments struct {
	Encoding   Encoding `json:"encoding"`
	Units      int      `json:"units"`    // septets for GSM-7, UTF-16 code units for UCS-2
	Segments   int      `json:"segments"` // billed messages
	PerSegment int      `json:"perSegment"`
}

// gsm7Basic is the GSM 03.38 default alphabet; gsm7Extension characters
// take two septets (an escape and the character).
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Extension = "^{}\\[~]|€\f"
)

var gsm7Septets = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsm7Basic {
		m[r] = 1
	}
	for _, r := range gsm7Extension {
		m[r] = 2
	}
	return m
}()

// CountSegments counts the SMS segments of text. A text entirely in the
// GSM-7 alphabet takes 160 septets in one segment and 153 per segment when
// split; anything else (Cyrillic, for one) goes as UCS-2: 70 units in one
// segment, 67 per segment when split.
func CountSegments(text string) Segments {
	septets, gsm := 0, true
	for _, r := range text {
		n, ok := gsm7Septets[r]
		if !ok {
			gsm = false
			break
		}
		septets += n
	}
	if gsm {
		return split(GSM7, septets, 160, 153)
	}
	return split(UCS2, len(utf16.Encode([]rune(text))), 70, 67)
}

func split(enc Encoding, units, single, multi int) Segments {
	s := Segments{Encoding: enc, Units: units, Segments: 1, PerSegment: single}
	if units > single {
		s.PerSegment = multi
		s.Segments = (units + multi - 1) / multi
	}
	if units == 0 {
		s.Segments = 0
	}
	return s
}
