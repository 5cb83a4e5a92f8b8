// Boost.Math distributions that answer as R's p/q functions do where the arguments leave the
// domain or the result overflows (NaN, Inf) instead of throwing: a t quantile on df near 0 is
// Inf, as R's qt(). Double arithmetic throughout (promoting to long double costs 5x the time
// for no digit R shows).
#pragma once
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace spiral::detail::quiet {

namespace policies = boost::math::policies;
using Policy = policies::policy<policies::domain_error<policies::ignore_error>, policies::overflow_error<policies::ignore_error>,
                                policies::evaluation_error<policies::ignore_error>, policies::promote_double<false>>;
using Normal = boost::math::normal_distribution<double, Policy>;
using StudentT = boost::math::students_t_distribution<double, Policy>;
using ChiSquared = boost::math::chi_squared_distribution<double, Policy>;
using FisherF = boost::math::fisher_f_distribution<double, Policy>;

}  // namespace spiral::detail::quiet
