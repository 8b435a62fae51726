package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

func TestEmailTextDeclinesMinutes(t *testing.T) {
	for minutes, want := range map[int]string{1: "1 минуту", 2: "2 минуты", 4: "4 минуты", 5: "5 минут", 10: "10 минут",
		11: "11 минут", 12: "12 минут", 21: "21 минуту", 22: "22 минуты", 111: "111 минут"} {
		m := notify.VerificationCode("id", "org", domain.ChannelEmail, "a@b.ru", "123456", time.Duration(minutes)*time.Minute, time.Now())
		if !strings.Contains(m.Text, "действует "+want+".") || !strings.Contains(m.HTML, "действует "+want+".") {
			t.Errorf("%d minutes: %q", minutes, m.Text)
		}
	}
}
