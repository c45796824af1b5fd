# Item 4's ablations of the AA-VAE (issue 22) by name: the one map that scripts/table3_campaign.sh
# (which runs them) and scripts/land_results.sh (which reports them) share. Sourced, not run.
#
#   a            the weights normalised to mean 1 over the batch
#   b            alpha warmed up over 500 steps
#   c            generated samples as Bernoulli means
#   d            two D updates a step
#   d-capacity   the conv D with 2 channels where it has 64 (conv nets only): the only width probed
#                whose D stays unsure of the generated digits past step 300 at 1% data
#                (docs/reproduction/README.md, "How weak a conv D stays unsure")
#   frozen       D keeps its initial weights (`freeze_d`): the control for what training on the
#                model's own samples does without D's judgement (build 57579e4: 514c06f with
#                the setting and its memory fix, since later builds train the conv VAE to other bits)
#   frozen-encoder  the frozen D again, its generated term training the encoder alone
#                (`generated_trains=encoder`): which half of the term makes the frozen row's
#                gain (build f9350e9: 57579e4 with the setting)
#
# The conv rows (abl1-X: b, d-capacity, frozen, frozen-encoder, all at 1% data, seeds 0-4) were
# trained before `norm_stats` defaulted to `real` (2026-12-02), with `all`, by 514c06f (frozen:
# 57579e4, frozen-encoder: f9350e9, 514c06f with the setting): their results carry
# `+norm_stats=all` in their names (conv_setting). The batch-norm ablation that made `real` the
# default is now Table 3's AA-VAE 1% row (build e91769d).
ablations=(a b c d d-capacity frozen frozen-encoder)
ablation_setting() {
  case $1 in
    a) echo normalize_weights=true ;;
    b) echo alpha_warmup=500 ;;
    c) echo generated=mean ;;
    d) echo d_steps=2 ;;
    d-capacity) echo d_channels=2 ;;
    frozen) echo freeze_d=true ;;
    frozen-encoder) echo freeze_d=true+generated_trains=encoder ;;
    *) echo "unknown ablation '$1': one of ${ablations[*]}" >&2; return 2 ;;
  esac
}
# An ablation's settings as its conv runs were made: with the old default of `norm_stats`.
conv_setting() {
  local set; set=$(ablation_setting "$1") || return 2
  echo "$set+norm_stats=all"
}
