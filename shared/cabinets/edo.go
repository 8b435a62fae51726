package cabinets

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
)

// The organization's КЭДО settings (HR electronic document exchange): the
// responsible person turns КЭДО and employees' signatures on or off. The
// settings are a domain value (domain.EDOSettings) so that the signature
// and document use cases read them through ports of their own and refuse
// through domain.EDOPolicy, without depending on this package.

// EDOStore keeps the organization's КЭДО settings.
type EDOStore interface {
	// EDOSettings reads the settings, or domain.DefaultEDOSettings when
	// never saved.
	EDOSettings(ctx context.Context, orgID string) (domain.EDOSettings, error)
	// SaveEDOSettings stores s if the stored version is still prevVersion
	// (0: none stored); ErrStale otherwise. The store sets the version to
	// prevVersion+1.
	SaveEDOSettings(ctx context.Context, s domain.EDOSettings, prevVersion int64) error
}

// EDO is the responsible person's КЭДО settings (CabinetsFunction).
type EDO struct {
	Store EDOStore
	Clock platform.Clock
}

// NewEDO builds the КЭДО settings use case; no port may be nil.
func NewEDO(store EDOStore, clock platform.Clock) (*EDO, error) {
	if err := platform.Required("cabinets.EDO", "store", store, "clock", clock); err != nil {
		return nil, err
	}
	return &EDO{Store: store, Clock: clock}, nil
}

// EDOSettingsView is the answer of GET and PATCH
// /v1/organization/edo-settings.
type EDOSettingsView struct {
	HREdo              bool `json:"hrEdo"`
	EmployeeSignatures bool `json:"employeeSignatures"`
	// SignaturesInEffect: employees may create and use signatures now
	// (КЭДО and signatures both on).
	SignaturesInEffect bool `json:"signaturesInEffect"`
	// NextSteps are what the organization must do, in Russian, while КЭДО
	// is on; empty while it is off.
	NextSteps []EDOStep  `json:"nextSteps"`
	Version   int64      `json:"version"`
	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
}

// EDOStep is one step the organization takes for КЭДО: a stable code and
// its Russian text for the responsible person.
type EDOStep struct {
	Code string `json:"code"`
	Text string `json:"text"`
}

// The steps of КЭДО, in the order to take them.
var (
	stepLocalAct = EDOStep{"local_act", "Утвердите локальный нормативный акт о переходе на электронный кадровый " +
		"документооборот и уведомите каждого сотрудника о переходе и о его праве дать согласие (статья 22.1 ТК РФ)."}
	stepEmployerSignature = EDOStep{"employer_signature", "Кадровые документы от имени работодателя подписываются " +
		"усиленной квалифицированной электронной подписью (УКЭП) руководителя или уполномоченного лица в учётной " +
		"программе: проверьте, что сертификат УКЭП установлен там и действует."}
	stepConsent = EDOStep{"employee_consent", "Получите письменное согласие на электронное взаимодействие " +
		"(статья 22.2 ТК РФ) от сотрудников, у которых есть трудовой стаж до 2022 года; тем, кто впервые принят " +
		"на работу после 31 декабря 2021 года, согласие не нужно. Отметьте согласия в учётной программе и обновите " +
		"публикацию: документы на подпись получат только сотрудники с согласием или без необходимости в нём, " +
		"остальным они останутся на бумаге."}
	stepSignaturesOn = EDOStep{"employee_signatures", "Сотрудники создают свою электронную подпись в Кабинете: " +
		"Профиль → Электронная подпись → Создать. Для этого они придумывают пароль подписи; если пароль забыт, " +
		"подпись создают заново кнопкой «Обновить»."}
	stepSignaturesOff = EDOStep{"employee_signatures_off", "Подписи сотрудников выключены. Включите их в этих " +
		"настройках, чтобы сотрудники могли создать электронную подпись в Кабинете: Профиль → Электронная " +
		"подпись → Создать."}
)

// viewEDO shows s with the steps that remain.
func viewEDO(s domain.EDOSettings) EDOSettingsView {
	v := EDOSettingsView{HREdo: s.HREdo, EmployeeSignatures: s.EmployeeSignatures, SignaturesInEffect: s.SignaturesOn(),
		NextSteps: []EDOStep{}, Version: s.Version, UpdatedAt: optTime(s.UpdatedAt)}
	if s.HREdo {
		v.NextSteps = append(v.NextSteps, stepLocalAct, stepEmployerSignature, stepConsent)
		if s.EmployeeSignatures {
			v.NextSteps = append(v.NextSteps, stepSignaturesOn)
		} else {
			v.NextSteps = append(v.NextSteps, stepSignaturesOff)
		}
	}
	return v
}

// EDOSettingsInput is the body of PATCH /v1/organization/edo-settings:
// absent fields keep their value.
type EDOSettingsInput struct {
	HREdo              *bool `json:"hrEdo"`
	EmployeeSignatures *bool `json:"employeeSignatures"`
}

// apply returns s changed by in, or the problems with in. Signatures can
// only be turned on together with КЭДО or while it is on; turning КЭДО off
// keeps the signature flag (its effect stops), so turning КЭДО on again
// restores the organization's choice.
func (in EDOSettingsInput) apply(s domain.EDOSettings) (domain.EDOSettings, error) {
	if in.HREdo != nil {
		s.HREdo = *in.HREdo
	}
	if in.EmployeeSignatures != nil {
		if *in.EmployeeSignatures && !s.HREdo {
			var p domain.Problems
			p.Add("employeeSignatures", "hr_edo_required", "employee signatures can only be turned on while HR electronic document exchange (hrEdo) is on")
			return s, p.Err()
		}
		s.EmployeeSignatures = *in.EmployeeSignatures
	}
	return s, nil
}

// Settings reads the organization's КЭДО settings.
func (s *EDO) Settings(ctx context.Context, orgID string) (EDOSettingsView, error) {
	st, err := s.Store.EDOSettings(ctx, orgID)
	if err != nil {
		return EDOSettingsView{}, err
	}
	return viewEDO(st), nil
}

// UpdateSettings changes the settings named in in. A patch that changes
// nothing writes nothing. A concurrent change is read again and the patch
// applied to it, since each field is set whole.
func (s *EDO) UpdateSettings(ctx context.Context, orgID string, in EDOSettingsInput) (EDOSettingsView, error) {
	for attempt := 0; attempt < 4; attempt++ {
		cur, err := s.Store.EDOSettings(ctx, orgID)
		if err != nil {
			return EDOSettingsView{}, err
		}
		next, err := in.apply(cur)
		if err != nil {
			return EDOSettingsView{}, err
		}
		if next.HREdo == cur.HREdo && next.EmployeeSignatures == cur.EmployeeSignatures {
			return viewEDO(cur), nil
		}
		// Milliseconds, as stored: the answer shows what a later read will.
		next.OrganizationID, next.UpdatedAt = orgID, s.Clock.Now().Truncate(time.Millisecond).UTC()
		err = s.Store.SaveEDOSettings(ctx, next, cur.Version)
		if err == nil {
			next.Version = cur.Version + 1
			return viewEDO(next), nil
		}
		if !errors.Is(err, ErrStale) {
			return EDOSettingsView{}, err
		}
	}
	return EDOSettingsView{}, domain.NewError(domain.CodeConflict, "the settings changed meanwhile; read them and try again")
}

// EmployeeReader reads one published employee (publication.Store has it).
type EmployeeReader interface {
	Employee(ctx context.Context, orgID, externalID string) (publication.PublishedEmployee, error)
}

// EDOGuard checks, before an employee signature action, that the
// organization's settings and the employee's published consent allow it
// (domain.EDOPolicy). The signature use cases take it as their guard, so
// their wiring only calls Check. Its ports only read: a refusal writes
// nothing.
type EDOGuard struct {
	Settings  EDOStore
	Employees EmployeeReader
}

// NewEDOGuard builds the guard; no port may be nil.
func NewEDOGuard(settings EDOStore, employees EmployeeReader) (*EDOGuard, error) {
	if err := platform.Required("cabinets.EDOGuard", "settings", settings, "employees", employees); err != nil {
		return nil, err
	}
	return &EDOGuard{Settings: settings, Employees: employees}, nil
}

// Check refuses with hr_edo_off, signatures_off or consent_required, or
// not_found for an employee the organization (taken from the caller's
// credential) does not have published; another organization's employee
// answers like a missing one. The settings are read first, so an
// organization with signatures off costs one read.
func (g *EDOGuard) Check(ctx context.Context, orgID, employeeID string) error {
	s, err := g.Settings.EDOSettings(ctx, orgID)
	if err != nil {
		return err
	}
	if !s.SignaturesOn() {
		return domain.EDOPolicy(s, domain.Consent{})
	}
	if _, err := publication.ParseExternalID(employeeID); err != nil {
		return domain.ErrNotFound
	}
	e, err := g.Employees.Employee(ctx, orgID, employeeID)
	if err != nil {
		return err
	}
	if !e.Published {
		return domain.ErrNotFound
	}
	return domain.EDOPolicy(s, e.Consent)
}
