package datasets

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// newRand returns a PCG generator seeded from the dataset seed and a path of
// names (account, Region, process...). Every process draws from its own
// generator, so adding or changing one process never shifts the random
// numbers of another.
func newRand(seed int64, path ...string) *rand.Rand {
	h := xxhash.New()
	var b [20]byte
	_, _ = h.Write(strconv.AppendInt(b[:0], seed, 10))
	for _, p := range path {
		_, _ = h.Write([]byte{0})
		_, _ = h.WriteString(p)
	}
	s1 := h.Sum64()
	_, _ = h.Write([]byte{1})
	s2 := h.Sum64()
	return rand.New(rand.NewPCG(s1, s2))
}

// mix is the SplitMix64 finaliser: a cheap bijective scrambler used to derive
// independent values from an event seed.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// mix2 derives a value from a seed and a salt.
func mix2(seed, salt uint64) uint64 { return mix(seed ^ mix(salt+0x632be59bd9b4e019)) }

// unitFloat maps a hash to [0, 1).
func unitFloat(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// hashString hashes s with a salt; used to derive stable per-name values.
func hashString(s string, salt uint64) uint64 { return mix2(xxhash.Sum64String(s), salt) }

// poisson draws a Poisson variate with mean lambda. Small means use Knuth's
// product method, large ones Hörmann's PTRS transformed rejection (the
// algorithm numpy uses).
func poisson(r *rand.Rand, lambda float64) int {
	switch {
	case !(lambda > 0):
		return 0
	case lambda < 12:
		l := math.Exp(-lambda)
		k, p := 0, r.Float64()
		for p > l {
			k++
			p *= r.Float64()
		}
		return k
	}
	slam := math.Sqrt(lambda)
	loglam := math.Log(lambda)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return int(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lambda+k*loglam-lg {
			return int(k)
		}
	}
}

// gamma draws a Gamma(shape, 1) variate (Marsaglia and Tsang).
func gamma(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// negBin draws an overdispersed count with the given mean: a Poisson whose
// rate is Gamma distributed with shape k (variance mean + mean²/k). k <= 0
// means plain Poisson.
func negBin(r *rand.Rand, mean, k float64) int {
	if k <= 0 || !(mean > 0) {
		return poisson(r, mean)
	}
	return poisson(r, mean*gamma(r, k)/k)
}

// logNormal draws exp(N(mu, sigma²)).
func logNormal(r *rand.Rand, mu, sigma float64) float64 {
	return math.Exp(mu + sigma*r.NormFloat64())
}

// uniform draws from [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// between draws an integer from [lo, hi].
func between(r *rand.Rand, lo, hi int) int { return lo + r.IntN(hi-lo+1) }

// weighted picks an index with probability proportional to w[i].
func weighted(r *rand.Rand, w []float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	x := r.Float64() * sum
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

const (
	hexDigits   = "0123456789abcdef"
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	upperAlpha  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	base62      = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	lowerAlnum  = "abcdefghijklmnopqrstuvwxyz0123456789"
	upperHexSet = "0123456789ABCDEF"
)

// appendChars appends n characters of alphabet drawn from the seed.
func appendChars(b []byte, seed uint64, n int, alphabet string) []byte {
	x := mix(seed)
	m := uint64(len(alphabet))
	left := 0
	for i := 0; i < n; i++ {
		if left == 0 {
			x = mix(x)
			left = 8 // 8 draws of at most 62 values use < 48 of 64 bits
		}
		b = append(b, alphabet[x%m])
		x /= m
		left--
	}
	return b
}

// chars returns n characters of alphabet drawn from the seed.
func chars(seed uint64, n int, alphabet string) string {
	return string(appendChars(make([]byte, 0, n), seed, n, alphabet))
}

// appendUUID appends a version-4-shaped UUID derived from the seed.
func appendUUID(b []byte, seed uint64) []byte {
	hi, lo := mix(seed), mix(seed^0x5bd1e995)
	hi = hi&^(0xf<<12) | 4<<12         // version 4
	lo = lo&^(0x3<<62) | uint64(2)<<62 // RFC 4122 variant
	var u [16]byte
	for i := 0; i < 8; i++ {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// uuid returns appendUUID as a string.
func uuid(seed uint64) string { return string(appendUUID(make([]byte, 0, 36), seed)) }
