package notify_test

import (
	"strings"
	"testing"

	"github.com/kabinet/kabinet/shared/notify"
)

func TestCountSegments(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		enc        notify.Encoding
		units, seg int
	}{
		{"empty", "", notify.GSM7, 0, 0},
		{"latin 160 fits one", strings.Repeat("a", 160), notify.GSM7, 160, 1},
		{"latin 161 takes two", strings.Repeat("a", 161), notify.GSM7, 161, 2},
		{"latin 306 takes two", strings.Repeat("a", 306), notify.GSM7, 306, 2},
		{"latin 307 takes three", strings.Repeat("a", 307), notify.GSM7, 307, 3},
		{"extension chars count twice", strings.Repeat("€", 80), notify.GSM7, 160, 1},
		{"extension chars over the edge", strings.Repeat("€", 81), notify.GSM7, 162, 2},
		{"cyrillic 70 fits one", strings.Repeat("я", 70), notify.UCS2, 70, 1},
		{"cyrillic 71 takes two", strings.Repeat("я", 71), notify.UCS2, 71, 2},
		{"cyrillic 134 takes two", strings.Repeat("я", 134), notify.UCS2, 134, 2},
		{"cyrillic 135 takes three", strings.Repeat("я", 135), notify.UCS2, 135, 3},
		{"one cyrillic letter makes it all UCS-2", strings.Repeat("a", 69) + "я", notify.UCS2, 70, 1},
		{"emoji is two UTF-16 units", strings.Repeat("😀", 35), notify.UCS2, 70, 1},
		{"the code text", "Код: 123456. Кабинет сотрудника. Никому не сообщайте", notify.UCS2, 52, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := notify.CountSegments(tc.text)
			if got.Encoding != tc.enc || got.Units != tc.units || got.Segments != tc.seg {
				t.Fatalf("got %+v, want %s %d units %d segments", got, tc.enc, tc.units, tc.seg)
			}
		})
	}
}
