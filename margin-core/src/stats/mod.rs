//! Statistical engine: random streams, the normal distribution, samplers, small dense linear
//! algebra, EWMA volatility and Monte Carlo scenario moves. `no_std`, allocation-free, every
//! transcendental through `libm`.

pub mod ewma;
pub mod linalg;
pub mod monte_carlo;
pub mod normal;
pub mod rng;
pub mod sample;
