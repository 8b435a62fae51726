package notices

import (
	"context"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

// TemplateView is one kind's template as the organization sends it.
type TemplateView struct {
	Kind notify.Kind `json:"kind"`
	notify.Template
	// Overridden: the organization's own wording; otherwise the default.
	Overridden   bool     `json:"overridden"`
	Placeholders []string `json:"placeholders"`
	// SMSCost is what the SMS costs rendered with typical values.
	SMSCost notify.Segments `json:"smsCost"`
}

// TemplateList is every templated kind.
type TemplateList struct {
	Items []TemplateView `json:"items"`
}

func (s *Service) view(kind notify.Kind, t notify.Template, overridden bool) TemplateView {
	sample := notify.Render(kind, t, notify.SampleValues(kind, s.PublicBaseURL))
	return TemplateView{Kind: kind, Template: t, Overridden: overridden, Placeholders: notify.Placeholders(kind),
		SMSCost: notify.CountSegments(sample.SMS)}
}

// ParseKind accepts a kind that has templates; anything else is not found.
func ParseKind(s string) (notify.Kind, error) {
	k := notify.Kind(s)
	if _, ok := notify.DefaultTemplate(k); !ok {
		return "", domain.NewError(domain.CodeNotFound, "no templates for this kind")
	}
	return k, nil
}

// Templates lists every templated kind with its effective template.
func (s *Service) Templates(ctx context.Context, orgID string) (TemplateList, error) {
	own, err := s.Store.Templates(ctx, orgID)
	if err != nil {
		return TemplateList{}, err
	}
	out := TemplateList{Items: []TemplateView{}}
	for _, k := range notify.TemplatedKinds() {
		t, overridden := own[k]
		if !overridden {
			t, _ = notify.DefaultTemplate(k)
		}
		out.Items = append(out.Items, s.view(k, t, overridden))
	}
	return out, nil
}

// effective reads the templates the organization sends: its own or the defaults.
func (s *Service) effective(ctx context.Context, orgID string, kind notify.Kind) (notify.Template, error) {
	own, err := s.Store.Templates(ctx, orgID)
	if err != nil {
		return notify.Template{}, err
	}
	if t, ok := own[kind]; ok {
		return t, nil
	}
	t, _ := notify.DefaultTemplate(kind)
	return t, nil
}

// SetTemplate checks and stores the organization's wording of kind.
func (s *Service) SetTemplate(ctx context.Context, orgID, kind string, t notify.Template) (TemplateView, error) {
	k, err := ParseKind(kind)
	if err != nil {
		return TemplateView{}, err
	}
	if err := notify.CheckTemplate(k, t); err != nil {
		return TemplateView{}, err
	}
	if err := s.Store.SaveTemplate(ctx, orgID, k, t, s.Clock.Now()); err != nil {
		return TemplateView{}, err
	}
	return s.view(k, t, true), nil
}

// ResetTemplate returns kind to the default wording.
func (s *Service) ResetTemplate(ctx context.Context, orgID, kind string) (TemplateView, error) {
	k, err := ParseKind(kind)
	if err != nil {
		return TemplateView{}, err
	}
	if err := s.Store.DeleteTemplate(ctx, orgID, k); err != nil {
		return TemplateView{}, err
	}
	t, _ := notify.DefaultTemplate(k)
	return s.view(k, t, false), nil
}
