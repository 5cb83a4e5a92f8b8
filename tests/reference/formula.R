# Reference model frames for tests/formula (run from the repository root:
#   Rscript tests/reference/formula.R
# ). Writes tests/reference/formula/frames.json from tests/data/formula/frame.csv.
#
# For each formula, as lme4::lFormula() builds its model:
#   fr  = the model frame (na.omit, drop.unused.levels = TRUE), lFormula(...)$fr
#         (stats::model.frame(..., drop.unused.levels = TRUE) for formulas without bars);
#   x   = model.matrix(nobars(formula), fr) with attr(, "assign") (before lFormula's
#         rank check, which belongs to the fitting code);
#   random, per bar of findbars() in formula order: lme4:::mkBlist(bar, fr) for the
#         grouping factor (ff) and term names (cnms), and the term's raw covariates
#         model.matrix(~ lhs, fr), which mkBlist() multiplies into Z.
suppressPackageStartupMessages({
  library(lme4)
  library(splines)
  library(jsonlite)
})

data <- read.csv("tests/data/formula/frame.csv", na.strings = c("", "NA", "NaN", "."),
                 check.names = FALSE, stringsAsFactors = FALSE)
# spiral's factor levels are in byte order (R's radix sort), whatever the locale.
for (name in names(data)) {
  if (is.character(data[[name]])) {
    data[[name]] <- factor(data[[name]], levels = sort(unique(data[[name]]), method = "radix"))
  }
}

frame_of <- function(formula) {
  if (is.null(findbars(formula))) {
    model.frame(formula, data, drop.unused.levels = TRUE)
  } else {
    # lme4's checks of levels against observations belong to the fitting code.
    lFormula(formula, data, control = lmerControl(check.nobs.vs.nlev = "ignore", check.nobs.vs.nRE = "ignore",
                                                  check.nlev.gtreq.5 = "ignore"))$fr
  }
}

# Column-major, each column a JSON array (I() keeps length-1 vectors as arrays).
columns <- function(m) lapply(seq_len(ncol(m)), function(j) I(unname(m[, j])))

random_block <- function(bar, fr) {
  b <- lme4:::mkBlist(bar, fr)
  z <- model.matrix(eval(substitute(~foo, list(foo = bar[[2]]))), fr)
  # mkBlist's transposed Z block is the Khatri-Rao product of the indicators and z.
  zt <- as.matrix(b$sm)
  stopifnot(isTRUE(all.equal(unname(zt[cbind(as.integer(b$ff) * ncol(z) - ncol(z) + 1L, seq_len(nrow(z)))]),
                             unname(z[, 1]))))
  stopifnot(identical(colnames(z), b$cnms))
  list(group = deparse(bar[[3]]),
       terms = I(colnames(z)),
       levels = I(levels(b$ff)),
       level_of_row = I(as.integer(b$ff) - 1L),
       z = columns(z))
}

case <- function(text) {
  formula <- as.formula(text)
  fr <- frame_of(formula)
  x <- model.matrix(nobars(formula), fr)
  bars <- findbars(formula)
  list(formula = text,
       n = nrow(fr),
       n_dropped = nrow(data) - nrow(fr),
       rows = I(as.integer(rownames(fr)) - 1L),
       y = I(unname(model.response(fr))),
       x_names = I(colnames(x)),
       x_assign = I(attr(x, "assign")),
       x = columns(x),
       offset = I(if (is.null(model.offset(fr))) numeric(0) else unname(model.offset(fr))),
       random = lapply(bars, random_block, fr = fr))
}

formulas <- c(
  "y ~ x + grp",
  "y ~ x * grp",
  "y ~ grp * sex",
  "y ~ 0 + grp + sex",
  "y ~ 0 + x:grp + sex",
  "y ~ x:grp",
  "y ~ grp:sex",
  "y ~ grp * sex - grp",
  "y ~ x * z * cond - x:z:cond",
  "y ~ (x + z + sex)^2",
  "y ~ grp/x",
  "y ~ 1",
  "y ~ x - 1",
  "y ~ `pre score` + cond:`pre score`",
  "y ~ x + session + (1 + x | patient)",
  "y ~ x + (1 | site/patient)",
  "y ~ x + (1 | site) + (1 | therapist)",
  "y ~ x + grp + (x || site)",
  "y ~ x + (0 + grp | site)",
  "y ~ z + (1 | site:sex)",
  "y ~ z + (1 + cond | therapist:site)",
  "y ~ 0 + cond:sex",
  "y ~ x * grp * sex",
  "y ~ x + (cond || site)",
  "y ~ x + (1 | site/patient/session)",
  # R's functions in formulas (specification section 3.1)
  "log(y + 10) ~ log(z) + sqrt(z) + exp(x/10) + abs(x) + log1p(z) + log(z, 2) + log(z, base = 10)",
  "y ~ log(x)",
  "y ~ I(x * 2 - 1/z) + I(-x) + I((x - 1)^2) + I(z^2):grp",
  "y ~ poly(z, 2) + scale(z)",
  "y ~ poly(z, 3, raw = TRUE) + scale(x, scale = FALSE)",
  "y ~ ns(z, 3) + grp",
  "y ~ splines::ns(z, df = 2):grp + bs(z, 4)",
  "y ~ bs(x, 3) + factor(session)",
  "y ~ factor(therapist) * x",
  "y ~ as.numeric(grp) + as.factor(session)",
  "y ~ x %in% grp",
  "y ~ x + offset(z) + offset(log(z))",
  "y ~ scale(x) + (1 + scale(x) | patient)",
  "sqrt(y + 5) ~ poly(z, 2):sex + (1 + log(z) | site)"
)

out <- lapply(formulas, case)
dir.create("tests/reference/formula", showWarnings = FALSE)
writeLines(toJSON(out, auto_unbox = TRUE, digits = I(17), pretty = TRUE),
           "tests/reference/formula/frames.json")

# New data coded as the fitted rows were (predict(): the terms' predvars, .getXlevels()):
# model.matrix of tests/data/formula/new.csv for formulas without bars.
newdata <- read.csv("tests/data/formula/new.csv", na.strings = c("", "NA"), check.names = FALSE,
                    stringsAsFactors = FALSE)
new_case <- function(text) {
  formula <- as.formula(text)
  fr <- model.frame(formula, data, drop.unused.levels = TRUE)
  x <- model.matrix(formula, fr)
  tt <- delete.response(terms(fr))
  complete <- newdata[newdata$grp %in% levels(fr$grp) | !("grp" %in% all.vars(formula)), ]
  mfn <- model.frame(tt, complete, xlev = .getXlevels(tt, fr), na.action = na.pass)
  xn <- model.matrix(tt, mfn, contrasts.arg = attr(x, "contrasts"))
  list(formula = text,
       rows = I(as.integer(rownames(complete)) - 1L),
       x_names = I(colnames(xn)),
       x = columns(xn),
       offset = I(if (is.null(model.offset(mfn))) rep(0, nrow(mfn)) else unname(model.offset(mfn))))
}
new_formulas <- c(
  "y ~ x + grp",
  "y ~ poly(z, 2) + scale(z)",
  "y ~ ns(z, 3) + grp",
  "y ~ bs(z, 4) + scale(x, scale = FALSE)",
  "y ~ factor(session) * x + offset(log(z))",
  "y ~ poly(z, 3, raw = TRUE) + I(z^2):grp"
)
writeLines(toJSON(lapply(new_formulas, new_case), auto_unbox = TRUE, digits = I(17), pretty = TRUE, na = "null"),
           "tests/reference/formula/new_data.json")

# Parser reference: R's terms() of the fixed part (nobars) and lme4's expanded bars
# (findbars(expandDoubleVerts(formula))), each bar's left side again through terms().
parsed <- function(text) {
  formula <- as.formula(text)
  fixed <- terms(nobars(formula))
  bars <- findbars(expandDoubleVerts(formula))
  list(formula = text,
       response = if (attr(fixed, "response") == 1) deparse(formula[[2]]) else "",
       intercept = attr(fixed, "intercept") == 1,
       terms = I(attr(fixed, "term.labels")),
       random = lapply(bars, function(bar) {
         lhs <- terms(eval(substitute(~foo, list(foo = bar[[2]]))))
         list(intercept = attr(lhs, "intercept") == 1,
              terms = I(attr(lhs, "term.labels")),
              group = deparse(bar[[3]]))
       }))
}

parser_formulas <- c(
  "y ~ a + b",
  "y ~ a*b",
  "y ~ a*b*c",
  "y ~ b:a + a",
  "y ~ a:b:c + a:c + c:b + b",
  "y ~ (a + b + c)^2",
  "y ~ a*b - a",
  "y ~ a*b - a:b",
  "y ~ (a + b):c",
  "y ~ (1 + a):b",
  "y ~ (a + b)/x",
  "y ~ a/b/c - a",
  "y ~ x - 1",
  "y ~ -1 + x",
  "y ~ 0 + x",
  "y ~ x + 0",
  "y ~ 0 + x + 1",
  "y ~ 1",
  "y ~ 0",
  "y ~ x + x + x:z + z:x",
  "y ~ `pre score` + `pre score`:a",
  "~ x1 + x2",
  "~ 0 + x1*x2",
  "y ~ x + (1 | g)",
  "y ~ x + (x | g)",
  "y ~ x + (1 + x | g)",
  "y ~ x + (0 + x | g)",
  "y ~ x + (x || g)",
  "y ~ x + (1 + x + z || g)",
  "y ~ x + (0 + x*z || g)",
  "y ~ x + (1 | a/b)",
  "y ~ x + (1 | a/b/c)",
  "y ~ x + (1 | a:b)",
  "y ~ x + (x || a/b)",
  "y ~ (1 | a) + x + (1 | b) + ((1 | c))",
  "y ~ x*a + (1 + x | s) + (1 | t:s)",
  "log(y) ~ log(x) + poly(x, 2) + x:log(z) + I(x^2)",
  "y ~ a %in% b + c",
  "y ~ I(a^2) + (1 + log(x) | g)",
  "y ~ x + offset(log(z))",
  "y ~ splines::ns(x, df = 3) * a + scale(z, scale = FALSE)",
  "y ~ factor(a):b + (1 | g)"
)
writeLines(toJSON(lapply(parser_formulas, parsed), auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/formula/terms.json")
