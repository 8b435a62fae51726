package notify

import (
	"fmt"
	"html"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
)

// VerificationCode renders the one-time code message, in Russian, for the channel.
func VerificationCode(id, orgID string, channel domain.Channel, to, code string, ttl time.Duration, now time.Time) Message {
	minutes := int(ttl / time.Minute)
	m := Message{ID: id, OrganizationID: orgID, Kind: KindVerificationCode, Channel: channel, To: to, CreatedAt: now}
	if channel == domain.ChannelSMS {
		// Short enough for one UCS-2 SMS segment (70 characters).
		m.Text = fmt.Sprintf("Код: %s. Кабинет сотрудника. Никому не сообщайте", code)
		return m
	}
	m.Subject = "Код подтверждения — Кабинет сотрудника"
	unit := minutesRu(minutes)
	m.Text = fmt.Sprintf("Здравствуйте!\n\nВаш код подтверждения: %s\nОн действует %d %s.\n\n"+
		"Никому не сообщайте этот код. Если вы его не запрашивали, просто проигнорируйте письмо.\n\n"+
		"Кабинет сотрудника", code, minutes, unit)
	m.HTML = fmt.Sprintf("<p>Здравствуйте!</p><p>Ваш код подтверждения: <b>%s</b><br>Он действует %d %s.</p>"+
		"<p>Никому не сообщайте этот код. Если вы его не запрашивали, просто проигнорируйте письмо.</p>"+
		"<p>Кабинет сотрудника</p>", html.EscapeString(code), minutes, unit)
	return m
}

// minutesRu is the Russian plural of "minute" for n: 1 минуту, 2 минуты, 5 минут.
func minutesRu(n int) string {
	switch {
	case n%10 == 1 && n%100 != 11:
		return "минуту"
	case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
		return "минуты"
	}
	return "минут"
}
