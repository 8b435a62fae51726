package lambdart

import (
	"context"
	"sync"
)

// Pool keeps up to Max Instances of one function, so that concurrent
// invocations do not all wait for each other. Instances are started on
// demand (Warm starts the first ahead of time) and reused.
type Pool struct {
	cfg Config
	max int

	mu      sync.Mutex
	all     []*Instance
	idle    []*Instance
	waiters []chan *Instance
	closed  bool
}

// NewPool returns a pool of at most max (>= 1) instances of cfg.
func NewPool(cfg Config, max int) *Pool {
	if max < 1 {
		max = 1
	}
	return &Pool{cfg: cfg, max: max}
}

// Warm starts one instance and waits for its process's first GET /next.
func (p *Pool) Warm(ctx context.Context) (ColdStart, error) {
	in, err := p.acquire(ctx)
	if err != nil {
		return ColdStart{}, err
	}
	defer p.release(in)
	return in.Ready(ctx)
}

// Invoke runs payload on an idle instance, starting one when all are busy and
// the pool is not full, else waiting for one.
func (p *Pool) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	in, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer p.release(in)
	return in.Invoke(ctx, payload)
}

func (p *Pool) acquire(ctx context.Context) (*Instance, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if n := len(p.idle); n > 0 {
		in := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return in, nil
	}
	if len(p.all) < p.max {
		// Reserve the slot, start outside the lock.
		p.all = append(p.all, nil)
		slot := len(p.all) - 1
		p.mu.Unlock()
		in, err := Start(ctx, p.cfg)
		p.mu.Lock()
		defer p.mu.Unlock()
		if err != nil {
			p.all = append(p.all[:slot], p.all[slot+1:]...)
			return nil, err
		}
		if p.closed {
			in.Close()
			return nil, ErrClosed
		}
		p.all[slot] = in
		return in, nil
	}
	ch := make(chan *Instance, 1)
	p.waiters = append(p.waiters, ch)
	p.mu.Unlock()
	select {
	case in := <-ch:
		if in == nil {
			return nil, ErrClosed
		}
		return in, nil
	case <-ctx.Done():
		p.mu.Lock()
		for k, w := range p.waiters {
			if w == ch {
				p.waiters = append(p.waiters[:k], p.waiters[k+1:]...)
				break
			}
		}
		p.mu.Unlock()
		// An instance may have been handed over meanwhile.
		select {
		case in := <-ch:
			if in != nil {
				p.release(in)
			}
		default:
		}
		return nil, ctx.Err()
	}
}

func (p *Pool) release(in *Instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		w <- in
		return
	}
	p.idle = append(p.idle, in)
}

// Close stops every instance.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	all := p.all
	p.all, p.idle = nil, nil
	for _, w := range p.waiters {
		close(w)
	}
	p.waiters = nil
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range all {
		if in != nil {
			wg.Add(1)
			go func() { defer wg.Done(); in.Close() }()
		}
	}
	wg.Wait()
}
