# Arguments on their way to the C++ library (specification section 8): data frames, formulas,
# specs. Bad input stops here with one line naming the argument at fault.

stop_arg <- function(arg, ...) stop(arg, ": ", ..., call. = FALSE)

what_is <- function(x) if (is.null(x)) "NULL" else paste(class(x), collapse = "/")

# A formula object or one string, as text.
formula_text <- function(f, arg = "formula") {
  if (inherits(f, "formula")) return(paste(deparse(f, width.cutoff = 500L), collapse = " "))
  if (is.character(f) && length(f) == 1L && !is.na(f)) return(f)
  stop_arg(arg, "expected a formula or one string, got ", what_is(f))
}

# A spec as the options the library reads: a file (spec), or TOML text or a list (spec_text).
spec_options <- function(spec) {
  if (is.list(spec)) return(list(spec_text = toml_text(spec)))
  if (!is.character(spec) || length(spec) != 1L || is.na(spec)) {
    stop_arg("spec", "expected a file name, TOML text or a list, got ", what_is(spec))
  }
  if (grepl("\n", spec, fixed = TRUE) || (grepl("[", spec, fixed = TRUE) && !file.exists(spec))) {
    return(list(spec_text = spec))
  }
  list(spec = spec)
}

# A list of tables (list(data = list(source = "s.csv", ...), model = list(...))) as TOML.
toml_text <- function(spec) {
  if (is.null(names(spec)) || any(names(spec) == "")) stop_arg("spec", "a list spec needs a name for every table")
  tables <- vapply(names(spec), function(table) {
    entries <- spec[[table]]
    if (!is.list(entries) || is.null(names(entries))) stop_arg("spec", "[", table, "] must be a named list")
    lines <- vapply(names(entries), function(key) paste(key, "=", toml_value(entries[[key]], table, key)), "")
    paste(c(paste0("[", table, "]"), lines), collapse = "\n")
  }, "")
  paste0(paste(tables, collapse = "\n\n"), "\n")
}

toml_value <- function(x, table, key) {
  one <- function(v) {
    if (is.character(v)) return(encodeString(v, quote = "\""))
    if (is.logical(v)) return(tolower(as.character(v)))
    if (is.numeric(v)) return(format(v, digits = 17))
    stop_arg("spec", "[", table, "] ", key, ": expected text, numbers or TRUE/FALSE")
  }
  # An array: a list, a vector of other than one value, or I(value).
  array <- is.list(x) || length(x) != 1L || inherits(x, "AsIs")
  if (is.list(x)) x <- unlist(x)
  if (is.factor(x)) x <- as.character(x)
  if (anyNA(x)) stop_arg("spec", "[", table, "] ", key, ": a missing value")
  items <- vapply(as.list(x), one, "")
  if (array) paste0("[", paste(items, collapse = ", "), "]") else items
}

# The names an option refers to (column names in formulas and column options).
referenced_names <- function(options) {
  text <- as.character(unlist(lapply(options, function(o) if (is.character(o)) o)))
  unique(unlist(strsplit(text, "[^A-Za-z0-9._]+")))
}

# A data frame as the library reads it: haven-labelled columns become factors with their
# labels; a used factor may not have unused levels; no zero-row frames.
as_spiral_data <- function(data, used, arg = "data") {
  if (!is.data.frame(data)) {
    if (!is.list(data)) stop_arg(arg, "expected a data frame or a SOURCE string, got ", what_is(data))
    data <- as.data.frame(data, stringsAsFactors = FALSE)
  }
  if (nrow(data) == 0L) stop_arg(arg, "the data frame has no rows")
  columns <- lapply(names(data), function(name) as_spiral_column(data[[name]], name, name %in% used, arg))
  structure(columns, names = names(data), row.names = c(NA_integer_, -nrow(data)), class = "data.frame")
}

as_spiral_column <- function(x, name, used, arg) {
  if (inherits(x, "haven_labelled")) x <- labelled_factor(x, name, arg)
  if (is.factor(x) && used) {
    unused <- setdiff(levels(x), as.character(unique(x[!is.na(x)])))
    if (length(unused) > 0L) {
      stop_arg(arg, "factor '", name, "' has unused levels (", paste0("'", utils::head(unused, 3), "'", collapse = ", "),
               "): drop them with droplevels()")
    }
  }
  if (!is.null(dim(x))) stop_arg(arg, "column '", name, "' is a matrix; give one column per variable")
  x
}

# A haven-labelled column (haven::read_sav/read_dta) as a factor whose levels are its value
# labels in the order of their values (haven::as_factor(levels = "labels")); labels no value
# uses are dropped, SPSS user-defined missing values are missing. A value without a label
# is an error: it would have no level.
labelled_factor <- function(x, name, arg) {
  labels <- attr(x, "labels", exact = TRUE)
  values <- as.vector(unclass(x))
  attributes(values) <- NULL
  missing_values <- attr(x, "na_values", exact = TRUE)
  values[values %in% missing_values] <- NA
  range <- attr(x, "na_range", exact = TRUE)
  if (!is.null(range)) values[!is.na(values) & values >= range[1] & values <= range[2]] <- NA
  if (is.null(labels)) stop_arg(arg, "labelled column '", name, "' has no value labels")
  present <- unique(values[!is.na(values)])
  unlabelled <- present[!present %in% labels]
  if (length(unlabelled) > 0L) {
    stop_arg(arg, "labelled column '", name, "' has values without a label (", paste(utils::head(sort(unlabelled), 3), collapse = ", "),
             "): label them, or use as.numeric() for a number")
  }
  labels <- sort(labels[labels %in% present])
  factor(values, levels = unname(labels), labels = names(labels))
}
