# Makes the reader fixtures in tests/data/readers/: one small data set written as CSV,
# TSV, semicolon CSV, SPSS (.sav, .zsav), Stata (.dta), SAS (.sas7bdat) and SQLite, so that the tests
# can check that every reader gives the same table.
# Run from the repository root: Rscript tests/reference/readers.R
library(haven)
library(RSQLite)
out <- "tests/data/readers"
d <- data.frame(
  patient  = c(1, 1, 2, 2, 3, 3),
  session  = c(1, 2, 1, 2, 1, 2),
  alliance = c(4.5, 5.25, NA, 3, 6, 5.5),
  symptoms = c(20, 18.5, 25, NA, 12, 11),
  arm      = c("TAU", "FB", "FB", "FB", "TAU", "TAU"),
  stringsAsFactors = FALSE
)
write.csv(d, file.path(out, "sessions.csv"), row.names = FALSE, na = "NA")
write.table(d, file.path(out, "sessions.tsv"), sep = "\t", row.names = FALSE, na = "", quote = FALSE)
write.table(d, file.path(out, "sessions_semicolon.csv"), sep = ";", row.names = FALSE, na = ".", quote = FALSE)
write_sav(d, file.path(out, "sessions.sav"))
write_sav(d, file.path(out, "sessions.zsav"), compress = "zsav")
write_dta(d, file.path(out, "sessions.dta"))
suppressWarnings(write_sas(d, file.path(out, "sessions.sas7bdat")))  # deprecated in haven, still writes a valid file
db <- dbConnect(SQLite(), file.path(out, "sessions.sqlite"))
dbWriteTable(db, "sessions", d, overwrite = TRUE)
dbDisconnect(db)

# SPSS with a user-defined missing value (99 = missing) and value labels on arm_code.
s <- d
s$alliance[is.na(s$alliance)] <- 99
s$alliance <- labelled_spss(s$alliance, na_values = 99)
s$arm_code <- labelled(ifelse(d$arm == "TAU", 1, 2), c(TAU = 1, Feedback = 2))
s$arm <- NULL
write_sav(s, file.path(out, "labelled.sav"))
write_dta(transform(s, alliance = ifelse(alliance == 99, NA, as.numeric(alliance))),
          file.path(out, "labelled.dta"))
