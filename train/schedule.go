package train

import (
	"fmt"
	"math"
)

// Schedule chooses the learning rate (and, for one-cycle, the momentum) per
// optimizer step. The zero value is a constant schedule.
type Schedule struct {
	// Kind is "constant" (default, also ""), "step", "cosine" or "onecycle".
	Kind string `json:"kind,omitempty"`
	// StepSize (epochs) and Gamma for "step": lr = base·γ^⌊epoch/StepSize⌋
	// (torch StepLR stepped per epoch). Defaults: StepSize 10, Gamma 0.1.
	StepSize int     `json:"step_size,omitempty"`
	Gamma    float64 `json:"gamma,omitempty"`
	// MinLR is cosine's η_min (default 0): lr = η_min + (base-η_min)(1+cos(π·epoch/Epochs))/2
	// (torch CosineAnnealingLR with T_max = Epochs, stepped per epoch).
	MinLR float64 `json:"min_lr,omitempty"`
	// One-cycle (torch OneCycleLR, stepped per batch, total_steps = all steps,
	// max_lr = the base LR, anneal "cos", three_phase false). Zero values take
	// torch's defaults: PctStart 0.3, DivFactor 25, FinalDivFactor 1e4,
	// BaseMomentum 0.85, MaxMomentum 0.95; momentum is cycled (inversely)
	// unless NoCycleMomentum.
	PctStart        float64 `json:"pct_start,omitempty"`
	DivFactor       float64 `json:"div_factor,omitempty"`
	FinalDivFactor  float64 `json:"final_div_factor,omitempty"`
	BaseMomentum    float64 `json:"base_momentum,omitempty"`
	MaxMomentum     float64 `json:"max_momentum,omitempty"`
	NoCycleMomentum bool    `json:"no_cycle_momentum,omitempty"`
}

// Validate checks the kind and ranges.
func (s Schedule) Validate() error {
	switch s.Kind {
	case "", "constant", "step", "cosine", "onecycle":
	default:
		return fmt.Errorf("schedule %q (want constant, step, cosine or onecycle): %w", s.Kind, ErrConfig)
	}
	if s.StepSize < 0 || s.Gamma < 0 || s.PctStart < 0 || s.PctStart >= 1 || s.DivFactor < 0 || s.FinalDivFactor < 0 {
		return fmt.Errorf("schedule %+v has a negative or out-of-range value: %w", s, ErrConfig)
	}
	return nil
}

func cosAnneal(start, end, pct float64) float64 {
	return end + (start-end)/2*(math.Cos(math.Pi*pct)+1)
}

// At returns the learning rate and momentum (0: not scheduled) for the step
// with global index step (0-based) in epoch (0-based), given the base LR,
// the number of epochs and steps per epoch.
func (s Schedule) At(base float64, epoch, step, epochs, stepsPerEpoch int) (lr, momentum float64) {
	switch s.Kind {
	case "step":
		ss, g := s.StepSize, s.Gamma
		if ss == 0 {
			ss = 10
		}
		if g == 0 {
			g = 0.1
		}
		return base * math.Pow(g, float64(epoch/ss)), 0
	case "cosine":
		if epochs <= 0 {
			return base, 0
		}
		return s.MinLR + (base-s.MinLR)*(1+math.Cos(math.Pi*float64(epoch)/float64(epochs)))/2, 0
	case "onecycle":
		pct, div, fdiv := s.PctStart, s.DivFactor, s.FinalDivFactor
		if pct == 0 {
			pct = 0.3
		}
		if div == 0 {
			div = 25
		}
		if fdiv == 0 {
			fdiv = 1e4
		}
		bm, mm := s.BaseMomentum, s.MaxMomentum
		if bm == 0 {
			bm = 0.85
		}
		if mm == 0 {
			mm = 0.95
		}
		total := epochs * stepsPerEpoch
		initial := base / div
		minLR := initial / fdiv
		end1 := pct*float64(total) - 1
		end2 := float64(total) - 1
		t := float64(step)
		var lrv, mom float64
		if t <= end1 {
			p := t / end1
			lrv, mom = cosAnneal(initial, base, p), cosAnneal(mm, bm, p)
		} else {
			p := (t - end1) / (end2 - end1)
			lrv, mom = cosAnneal(base, minLR, p), cosAnneal(bm, mm, p)
		}
		if s.NoCycleMomentum {
			mom = 0
		}
		return lrv, mom
	}
	return base, 0
}
