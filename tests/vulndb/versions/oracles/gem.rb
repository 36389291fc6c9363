# Oracle: RubyGems' Gem::Version. One version a line prints 1 or 0 (valid or not); two, <=>.
require "rubygems"
STDIN.each_line do |line|
  f = line.chomp("\n").split("\t", -1)
  if f.size == 1
    puts(Gem::Version.correct?(f[0]) ? 1 : 0)
  else
    puts(Gem::Version.new(f[0]) <=> Gem::Version.new(f[1]))
  end
end
