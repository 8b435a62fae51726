package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kabinet/kabinet/infra/moto"
)

// OutboxSMS is a text message the system sent (recorded by moto's SNS).
type OutboxSMS struct {
	ID     string    `json:"id"`
	To     string    `json:"to"`
	Text   string    `json:"text"`
	SentAt time.Time `json:"sentAt"`
}

// OutboxEmail is an e-mail the system sent (recorded by moto's SES).
type OutboxEmail struct {
	ID      string    `json:"id"`
	From    string    `json:"from"`
	To      []string  `json:"to"`
	Cc      []string  `json:"cc,omitempty"`
	Bcc     []string  `json:"bcc,omitempty"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	SentAt  time.Time `json:"sentAt"`
}

// OutboxContents is what GET /_local/outbox returns.
type OutboxContents struct {
	SMS    []OutboxSMS   `json:"sms"`
	Emails []OutboxEmail `json:"emails"`
}

// Outbox follows what moto recorded as sent, prints each new message and
// serves the list. SentAt is when the outbox first saw the message.
type Outbox struct {
	// Read fetches what was sent (default moto.ReadSent against Endpoint).
	Read      func(ctx context.Context) (moto.Sent, error)
	Console   io.Writer
	ConsoleMu *sync.Mutex
	Interval  time.Duration

	mu     sync.Mutex
	seen   map[string]bool
	sms    []OutboxSMS
	emails []OutboxEmail
}

// NewOutbox follows the moto server at endpoint.
func NewOutbox(endpoint string, console io.Writer, consoleMu *sync.Mutex) *Outbox {
	return &Outbox{
		Read:      func(ctx context.Context) (moto.Sent, error) { return moto.ReadSent(ctx, endpoint) },
		Console:   console,
		ConsoleMu: consoleMu,
		Interval:  500 * time.Millisecond,
	}
}

// Run polls until ctx is done.
func (o *Outbox) Run(ctx context.Context) {
	iv := o.Interval
	if iv <= 0 {
		iv = 500 * time.Millisecond
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		_ = o.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll reads once and records (and prints) what is new.
func (o *Outbox) Poll(ctx context.Context) error {
	sent, err := o.Read(ctx)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	var boxes []string
	o.mu.Lock()
	if o.seen == nil {
		o.seen = map[string]bool{}
	}
	for k, s := range sent.SMS {
		key := "sms:" + s.MessageID
		if s.MessageID == "" {
			key = fmt.Sprintf("sms#%d", k)
		}
		if o.seen[key] {
			continue
		}
		o.seen[key] = true
		m := OutboxSMS{ID: firstNonEmpty(s.MessageID, key), To: s.PhoneNumber, Text: s.Message, SentAt: now}
		o.sms = append(o.sms, m)
		boxes = append(boxes, box("SMS", [][2]string{{"to", m.To}}, m.Text))
	}
	for k, e := range sent.Emails {
		key := "email:" + e.ID
		if e.ID == "" {
			key = fmt.Sprintf("email#%d", k)
		}
		if o.seen[key] {
			continue
		}
		o.seen[key] = true
		m := OutboxEmail{
			ID: firstNonEmpty(e.ID, key), From: e.Source, Subject: e.Subject, Body: e.Body, SentAt: now,
			To: nonNil(e.Destinations["ToAddresses"]), Cc: e.Destinations["CcAddresses"], Bcc: e.Destinations["BccAddresses"],
		}
		o.emails = append(o.emails, m)
		fields := [][2]string{{"from", m.From}, {"to", strings.Join(m.To, ", ")}}
		if len(m.Cc) > 0 {
			fields = append(fields, [2]string{"cc", strings.Join(m.Cc, ", ")})
		}
		if len(m.Bcc) > 0 {
			fields = append(fields, [2]string{"bcc", strings.Join(m.Bcc, ", ")})
		}
		fields = append(fields, [2]string{"subject", m.Subject})
		boxes = append(boxes, box("E-MAIL", fields, m.Body))
	}
	o.mu.Unlock()
	if o.Console != nil && len(boxes) > 0 {
		if o.ConsoleMu != nil {
			o.ConsoleMu.Lock()
			defer o.ConsoleMu.Unlock()
		}
		for _, b := range boxes {
			_, _ = io.WriteString(o.Console, b)
		}
	}
	return nil
}

// Contents returns a copy of everything seen so far.
func (o *Outbox) Contents() OutboxContents {
	o.mu.Lock()
	defer o.mu.Unlock()
	return OutboxContents{
		SMS:    append([]OutboxSMS{}, o.sms...),
		Emails: append([]OutboxEmail{}, o.emails...),
	}
}

// ServeHTTP serves GET /_local/outbox.
func (o *Outbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Serve fresh data: what the functions sent just before this request.
	_ = o.Poll(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(o.Contents())
}

// box draws a readable console box around a message.
func box(title string, fields [][2]string, text string) string {
	var lines []string
	for _, f := range fields {
		lines = append(lines, fmt.Sprintf("%-8s %s", f[0]+":", f[1]))
	}
	lines = append(lines, "")
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		lines = append(lines, strings.TrimRight(l, "\r"))
	}
	width := utf8.RuneCountInString(title) + 4
	for _, l := range lines {
		width = max(width, utf8.RuneCountInString(l))
	}
	width = min(width, 100)
	var b strings.Builder
	head := "─ " + title + " "
	b.WriteString("┌" + head + strings.Repeat("─", max(0, width+2-utf8.RuneCountInString(head))) + "┐\n")
	for _, l := range lines {
		for utf8.RuneCountInString(l) > width {
			r := []rune(l)
			b.WriteString("│ " + string(r[:width]) + " │\n")
			l = string(r[width:])
		}
		b.WriteString("│ " + l + strings.Repeat(" ", width-utf8.RuneCountInString(l)) + " │\n")
	}
	b.WriteString("└" + strings.Repeat("─", width+2) + "┘\n")
	return b.String()
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
