package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kabinet/kabinet/infra/moto"
)

// OutboxSMS is a text message the system sent (recorded by moto's SNS).
type OutboxSMS struct {
	ID string `json:"id"`
	// Seq numbers the outbox's messages, SMS and e-mail together, from 1.
	Seq    int       `json:"seq"`
	To     string    `json:"to"`
	Text   string    `json:"text"`
	SentAt time.Time `json:"sentAt"`
}

// OutboxEmail is an e-mail the system sent (recorded by moto's SES).
type OutboxEmail struct {
	ID      string    `json:"id"`
	Seq     int       `json:"seq"`
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
	// Last is the highest Seq in the outbox: pass it as ?since= to get only
	// what arrives later.
	Last int `json:"last"`
}

// Outbox follows what moto recorded as sent, prints each new message and
// serves the list. SentAt is when the outbox first saw the message.
//
// It reads incrementally: moto keeps sent messages in order, so the outbox
// asks only for those after the ones it has, and a GET costs what it
// returns rather than what the emulator holds.
type Outbox struct {
	// Read fetches what was sent after the first sms text messages and the
	// first emails e-mails (default moto.ReadSentSince against the endpoint).
	Read      func(ctx context.Context, sms, emails int) (moto.Sent, error)
	Console   io.Writer
	ConsoleMu *sync.Mutex
	Interval  time.Duration

	// pollMu makes polls take turns, so that two never record one message twice.
	pollMu sync.Mutex
	mu     sync.Mutex
	seq    int
	sms    []OutboxSMS
	emails []OutboxEmail
}

// NewOutbox follows the moto server at endpoint.
func NewOutbox(endpoint string, console io.Writer, consoleMu *sync.Mutex) *Outbox {
	return &Outbox{
		Read: func(ctx context.Context, sms, emails int) (moto.Sent, error) {
			return moto.ReadSentSince(ctx, endpoint, sms, emails)
		},
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

// Poll reads what is new once and records (and prints) it.
func (o *Outbox) Poll(ctx context.Context) error {
	o.pollMu.Lock()
	defer o.pollMu.Unlock()
	o.mu.Lock()
	nSMS, nEmails := len(o.sms), len(o.emails)
	o.mu.Unlock()
	sent, err := o.Read(ctx, nSMS, nEmails)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	var boxes []string
	o.mu.Lock()
	for k, s := range sent.SMS {
		o.seq++
		m := OutboxSMS{Seq: o.seq, ID: firstNonEmpty(s.MessageID, fmt.Sprintf("sms#%d", nSMS+k)), To: s.PhoneNumber, Text: s.Message, SentAt: now}
		o.sms = append(o.sms, m)
		boxes = append(boxes, box("SMS", [][2]string{{"to", m.To}}, m.Text))
	}
	for k, e := range sent.Emails {
		o.seq++
		m := OutboxEmail{
			Seq: o.seq, ID: firstNonEmpty(e.ID, fmt.Sprintf("email#%d", nEmails+k)), From: e.Source, Subject: e.Subject, Body: e.Body, SentAt: now,
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
func (o *Outbox) Contents() OutboxContents { return o.Since(0) }

// Since returns the messages numbered after seq.
func (o *Outbox) Since(seq int) OutboxContents {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := OutboxContents{SMS: []OutboxSMS{}, Emails: []OutboxEmail{}, Last: o.seq}
	// Seq grows along each list, so the new ones are a tail.
	i := sort.Search(len(o.sms), func(i int) bool { return o.sms[i].Seq > seq })
	out.SMS = append(out.SMS, o.sms[i:]...)
	j := sort.Search(len(o.emails), func(j int) bool { return o.emails[j].Seq > seq })
	out.Emails = append(out.Emails, o.emails[j:]...)
	return out
}

// ServeHTTP serves GET /_local/outbox[?since=<seq>]: every message, or only
// those after seq (the "last" of an earlier answer).
func (o *Outbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	since := 0
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeMessage(w, http.StatusBadRequest, "since: want the non-negative \"last\" of an earlier answer")
			return
		}
		since = n
	}
	// Serve fresh data: what the functions sent just before this request.
	_ = o.Poll(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(o.Since(since))
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
