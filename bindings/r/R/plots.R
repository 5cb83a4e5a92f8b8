# metafor's forest() and funnel() for a meta-analysis, drawn on the R graphics device with base
# graphics from the result's numbers (the CLI writes the same plots to files with --forest and
# --funnel). Only the studies' own Wald intervals, yi -/+ z sqrt(vi), are formed here.

#' Forest and funnel plots of a meta-analysis
#'
#' `forest()` draws each study's effect size with its confidence interval (squares sized by
#' the study's weight) and the pooled estimate as a diamond, or, with moderators, each study's
#' fitted value as a grey diamond, as `metafor::forest()` of an `rma` fit. `funnel()` draws
#' the effect sizes (the residuals with moderators) against their standard errors, with the
#' pseudo confidence region around the pooled estimate, as `metafor::funnel()`. Both are
#' methods of metafor's generics as well, so they work whichever package was attached last.
#'
#' @param x a `spiral_meta` result of [meta()].
#' @param level the confidence level of the studies' intervals (a proportion); the fit's by default.
#' @param xlab the label of the horizontal axis.
#' @param ... further arguments to [graphics::plot.default()].
#' @return `x`, invisibly.
#' @examples
#' bcg <- data.frame(yi = c(-0.889, -1.585, -1.348, -1.442, -0.218, -0.786, -1.621),
#'                   vi = c(0.326, 0.195, 0.415, 0.020, 0.051, 0.007, 0.223))
#' res <- meta(bcg, yi = "yi", vi = "vi")
#' forest(res)
#' funnel(res)
#' @name meta-plots
NULL

# spiral's generics hand every other class to metafor's, so that attaching spiral after metafor
# leaves metafor's forest() and funnel() of its own fits working.

#' @rdname meta-plots
#' @export
forest <- function(x, ...) {
  if (!inherits(x, "spiral_meta") && requireNamespace("metafor", quietly = TRUE)) return(metafor::forest(x, ...))
  UseMethod("forest")
}

#' @rdname meta-plots
#' @export
funnel <- function(x, ...) {
  if (!inherits(x, "spiral_meta") && requireNamespace("metafor", quietly = TRUE)) return(metafor::funnel(x, ...))
  UseMethod("funnel")
}

#' @rdname meta-plots
#' @export
#' @rawNamespace S3method(metafor::forest, spiral_meta)
forest.spiral_meta <- function(x, level = fit_level(x) / 100, xlab = "Observed Outcome", ...) {
  s <- x$studies
  k <- nrow(s)
  z <- stats::qnorm((1 + level) / 2)
  low <- s$yi - z * sqrt(s$vi)
  high <- s$yi + z * sqrt(s$vi)
  pooled <- nrow(x$coefficients) == 1L
  rows <- rev(seq_len(k)) + if (pooled) 2 else 0
  range <- range(c(low, high, if (pooled) c(x$coefficients$conf_low, x$coefficients$conf_high)), na.rm = TRUE)
  width <- diff(range)
  old <- graphics::par(mar = c(4, 0.5, 1, 0.5))
  on.exit(graphics::par(old))
  graphics::plot(NA, xlim = c(range[1] - 0.6 * width, range[2] + 0.6 * width), ylim = c(0.5, max(rows) + 1),
                 xlab = xlab, ylab = "", yaxt = "n", bty = "n", xaxt = "n", ...)
  graphics::axis(1, at = pretty(range))
  graphics::segments(0, 0, 0, max(rows) + 0.5, lty = "dotted")
  if (!pooled) {  # the fitted values under the studies' own estimates, as metafor draws them
    for (i in seq_len(k)) diamond(s$fitted[i], s$fitted_conf_low[i], s$fitted_conf_high[i], rows[i], 0.15, "grey70")
  }
  graphics::segments(low, rows, high, rows)
  size <- 0.4 + 1.6 * sqrt(s$weight / max(s$weight))
  graphics::points(s$yi, rows, pch = 15, cex = size)
  labels <- study_labels(x)
  graphics::text(range[1] - 0.6 * width, rows, labels, pos = 4, cex = 0.9)
  graphics::text(range[2] + 0.6 * width, rows, interval_text(s$yi, low, high), pos = 2, cex = 0.9)
  if (pooled) {
    co <- x$coefficients
    graphics::abline(h = 1.75, lwd = 0.5)
    diamond(co$estimate, co$conf_low, co$conf_high, 1, 0.3, "black")
    graphics::text(range[1] - 0.6 * width, 1, paste0(model_label(x), " Model"), pos = 4, cex = 0.9)
    graphics::text(range[2] + 0.6 * width, 1, interval_text(co$estimate, co$conf_low, co$conf_high), pos = 2, cex = 0.9)
  }
  invisible(x)
}

#' @rdname meta-plots
#' @export
#' @rawNamespace S3method(metafor::funnel, spiral_meta)
funnel.spiral_meta <- function(x, level = fit_level(x) / 100, xlab = NULL, ...) {
  s <- x$studies
  moderated <- nrow(x$coefficients) > 1L
  effect <- if (moderated) s$residual else s$yi
  centre <- if (moderated) 0 else x$coefficients$estimate
  if (is.null(xlab)) xlab <- if (moderated) "Residual Value" else "Observed Outcome"
  se <- sqrt(s$vi)
  top <- max(se)
  z <- stats::qnorm((1 + level) / 2)
  graphics::plot(effect, se, ylim = c(top, 0), xlim = range(c(effect, centre - z * top, centre + z * top)),
                 xlab = xlab, ylab = "Standard Error", pch = 19, ...)
  graphics::polygon(c(centre - z * top, centre, centre + z * top), c(top, 0, top), col = grDevices::adjustcolor("white", 0),
                    border = "grey40", lty = "dotted")
  graphics::segments(centre, 0, centre, top)
  graphics::points(effect, se, pch = 19)
  invisible(x)
}

diamond <- function(centre, low, high, y, half_height, colour) {
  graphics::polygon(c(low, centre, high, centre), c(y, y + half_height, y, y - half_height), col = colour, border = colour)
}

interval_text <- function(estimate, low, high) {
  number <- function(v) formatC(v, digits = 2, format = "f")
  paste0(number(estimate), " [", number(low), ", ", number(high), "]")
}

model_label <- function(x) if (identical(x$method, "FE")) "FE" else "RE"
