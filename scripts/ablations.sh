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
#   bn-real      batch norm's running statistics moved by the real examples' passes alone
#                (`norm_stats=real`): the batch-norm hypothesis of docs/reproduction/README.md
#                (build e91769d: f9350e9 with the setting)
ablations=(a b c d d-capacity frozen frozen-encoder bn-real)
ablation_setting() {
  case $1 in
    a) echo normalize_weights=true ;;
    b) echo alpha_warmup=500 ;;
    c) echo generated=mean ;;
    d) echo d_steps=2 ;;
    d-capacity) echo d_channels=2 ;;
    frozen) echo freeze_d=true ;;
    frozen-encoder) echo freeze_d=true+generated_trains=encoder ;;
    bn-real) echo norm_stats=real ;;
    *) echo "unknown ablation '$1': one of ${ablations[*]}" >&2; return 2 ;;
  esac
}
# The build of a conv ablation's runs: 514c06f, the 10% row's, where it has the setting.
ablation_build() {
  case $1 in
    frozen) echo 57579e4 ;;
    frozen-encoder) echo f9350e9 ;;
    bn-real) echo e91769d ;;
    *) echo 514c06f ;;
  esac
}
