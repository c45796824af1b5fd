//! Every model in the unified formulation (Hu et al. 2018, Table 1 and §3-5): which distribution
//! plays the generator `p_theta(x|y)`, the inference model `q_eta(z|x, y)` and the discriminator
//! `q_phi(y|x)`; which KL divergence the generator's update minimises; and which phase of
//! wake-sleep it extends. `unigen models` prints this table, and docs/unified.md explains it.
//!
//! The two directions: the wake phase fits the generative model to data with the latent inferred,
//! `min KL(q(z|x) p_data(x) || p_theta(z, x))`, inference on the left (VAEs, eq. 11); the sleep
//! phase fits the inference model to dreams, `min KL(p_theta(z|x) || q(z|x))`, the generator on
//! the left (GANs' generator, eq. 6: `KL(p_theta(x|y=0) || q^r(x|y=0)) - JSD`).

use super::ModelKind;

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Correspondence {
    /// Plays `p_theta(x | y)`: what is generated and from what.
    pub generator: &'static str,
    /// Plays `q_eta(z | x, y)`: what infers the latent, if anything does.
    pub inference: &'static str,
    /// Plays `q_phi(y | x)` and what `y` is.
    pub discriminator: &'static str,
    /// The divergence the generator's update minimises.
    pub kl: &'static str,
    /// The wake-sleep phase the model extends.
    pub phase: &'static str,
}

const VAE_KL: &str = "KL(q_eta(z|x,y) q^r_*(y|x) || p_theta(z,y|x)): inference on the left, mode-covering";
const GAN_KL: &str = "KL(p_theta(x|y) || q^r_phi(x|y)) - JSD: generator on the left, mode-seeking";

impl ModelKind {
    /// The model's place in the unified formulation.
    pub fn correspondence(self) -> Correspondence {
        use ModelKind::*;
        let vae = |generator, inference| Correspondence {
            generator,
            inference,
            discriminator: "perfect and fixed: q_*(y|x), y = real/generated; generated samples get weight 0",
            kl: VAE_KL,
            phase: "wake: the generator learns on real data with z inferred",
        };
        let aa = |generator, inference| Correspondence {
            discriminator: "learned D_phi(x), y = real/generated; every example weighs stop_gradient(D(x))",
            phase: "wake, with the sleep phase's dreams let in: generated samples train p_theta as far as they fool D",
            ..vae(generator, inference)
        };
        let gan = |generator, discriminator| Correspondence {
            generator,
            inference: "none (z is never inferred)",
            discriminator,
            kl: GAN_KL,
            phase: "sleep: D learns on dreamed samples; the generator follows q^r",
        };
        match self {
            Vae => vae("decoder p_theta(x|z)", "encoder q_eta(z|x)"),
            Iwae => Correspondence {
                kl: "the VAE's direction on the importance-weighted bound L_k (tighter as k grows)",
                ..vae("decoder p_theta(x|z)", "encoder q_eta(z|x), k samples weighted by p/q")
            },
            Cvae => vae("decoder p_theta(x|z,c)", "encoder q_eta(z|x,c)"),
            Svae => vae("decoder p_theta(x|z,c)", "encoder q_eta(z|x,c) and classifier q(c|x)"),
            Aavae => aa("decoder p_theta(x|z)", "encoder q_eta(z|x)"),
            Aacvae => aa("decoder p_theta(x|z,c)", "encoder q_eta(z|x,c)"),
            Aasvae => aa("decoder p_theta(x|z,c)", "encoder q_eta(z|x,c) and classifier q(c|x)"),
            Gan => gan("generator G(z)", "D_phi(x), y = real/generated"),
            Cgan => gan("generator G(z,c)", "D_phi(x,c), y = real/generated"),
            Iwgan | Iwcgan => Correspondence {
                kl: "the GAN's direction, samples weighted by q^r/q = exp(l(x)) normalised: the IWAE's importance weights",
                ..gan(if self == Iwgan { "generator G(z)" } else { "generator G(z,c)" }, "D_phi(x[,c]), y = real/generated")
            },
            Infogan => Correspondence {
                inference: "head Q(c|x) on D's body: infers the code c of a generated x",
                kl: "GAN's for G; Q adds the sleep-phase KL(p_theta(c|x) || Q(c|x)) (the information bound)",
                phase: "sleep: D and Q both learn on dreamed samples",
                ..gan("generator G(z,c), c a categorical + continuous code", "D_phi(x), y = real/generated")
            },
            Aae => Correspondence {
                generator: "encoder q_eta(z|x) as a generator of codes; decoder p_theta(x|z) reconstructs",
                inference: "encoder q_eta(z|x)",
                discriminator: "D_phi(z) on codes, y = prior sample/posterior code",
                kl: "GAN's direction on codes, KL(q_eta(z) || q^r_phi(z)) - JSD, replacing the VAE's KL(q_eta(z|x) || p(z))",
                phase: "wake for the decoder (reconstruction); sleep-like for the codes",
            },
            WakeSleep => Correspondence {
                generator: "p_theta(x|z) with prior p(z)",
                inference: "recognition model q_lambda(z|x)",
                discriminator: "none",
                kl: "wake: KL(q_lambda(z|x) p_data(x) || p_theta(z,x)) for theta; sleep: KL(p_theta(z|x) || q_lambda(z|x)) for lambda",
                phase: "both: the origin of the two phases",
            },
            Ada => Correspondence {
                generator: "feature extractor: the features' distribution in each domain, p_theta(x|y)",
                inference: "none (the label classifier is trained on source labels)",
                discriminator: "domain discriminator D_phi(x) on features, y = source/target",
                kl: GAN_KL,
                phase: "sleep: as a GAN, with features for samples and domains for real/generated",
            },
            Cyclegan => Correspondence {
                generator: "translators G_AB, G_BA: p_theta(x_B|x_A) and back",
                inference: "each translator is the other's inference model",
                discriminator: "D_A, D_B: y = real/translated in each domain",
                kl: "GAN's direction in each domain, plus a reconstruction (cycle) term as in a VAE",
                phase: "sleep for each GAN; the cycle term is wake-like reconstruction",
            },
        }
    }
}
